import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine a run was taken on, as the README and the JSON state it. */
export interface Machine {
  cpu: string;
  cores: number;
  memTotalGiB: number;
  /** 1-, 5- and 15-minute load averages when the run began: other work on the machine shows here. */
  loadAverageAtStart: number[];
  /** The same when the measurements ended. */
  loadAverageAtEnd?: number[];
  node: string;
  postgres: string;
}

/** The CPU model from the text of /proc/cpuinfo. */
export function cpuModel(cpuinfo: string): string | undefined {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
}

/** MemTotal in GiB from the text of /proc/meminfo. */
export function memTotalGiB(meminfo: string): number | undefined {
  const kib = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo)?.[1];
  return kib === undefined ? undefined : Number(kib) / 1024 / 1024;
}

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

export const loadAverage = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

export function describeMachine(postgres: string): Machine {
  return {
    cpu: cpuModel(read('/proc/cpuinfo')) ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memTotalGiB: memTotalGiB(read('/proc/meminfo')) ?? os.totalmem() / 1024 ** 3,
    loadAverageAtStart: loadAverage(),
    node: process.version,
    postgres,
  };
}
