import { readFileSync } from 'node:fs';

/** Linux reports CPU times in clock ticks of 1/100 s on every architecture Node runs this bench on. */
const TICK_MS = 10;

/** User + system CPU milliseconds of a process from the text of /proc/<pid>/stat. */
export function processCpuMs(stat: string): number | undefined {
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * TICK_MS : undefined;
}

/** Busy and total CPU ticks of the whole machine from the first line of /proc/stat. */
export function machineTicks(stat: string): { busy: number; total: number } | undefined {
  const line = /^cpu\s+(.+)$/m.exec(stat)?.[1];
  if (!line) return undefined;
  const v = line.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy; guest is inside user.
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** Where the CPU went during one measurement. */
export interface CpuUse {
  /** Share of all the machine's cores that were busy (anyone's work), 0..1. */
  machineBusy: number;
  /** CPU milliseconds per answered request: the server process(es) measured, and the load generator. */
  serverMsPerRequest: number;
  clientMsPerRequest: number;
}

/**
 * Reads CPU counters at the start and the end of a measurement: whether the server is bound by its
 * own CPU, by the load generator's, or by other work on the machine shows in these three figures.
 */
export class CpuMeter {
  private startServer = 0;
  private startClient = 0;
  private startMachine: { busy: number; total: number } | undefined;

  constructor(private readonly serverPids: () => readonly number[]) {}

  private serverMs(): number {
    let ms = 0;
    for (const pid of this.serverPids()) ms += processCpuMs(read(`/proc/${pid}/stat`)) ?? 0;
    return ms;
  }

  private clientMs(): number {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }

  start(): void {
    this.startServer = this.serverMs();
    this.startClient = this.clientMs();
    this.startMachine = machineTicks(read('/proc/stat'));
  }

  /** The figures since start(); NaN where there is nothing to divide (no start, no request, no server). */
  stop(requests: number): CpuUse {
    if (this.startMachine === undefined) {
      return { machineBusy: Number.NaN, serverMsPerRequest: Number.NaN, clientMsPerRequest: Number.NaN };
    }
    const end = machineTicks(read('/proc/stat'));
    const span = end && this.startMachine ? end.total - this.startMachine.total : 0;
    const per = (ms: number) => (requests > 0 ? ms / requests : Number.NaN);
    return {
      machineBusy:
        end && this.startMachine && span > 0 ? (end.busy - this.startMachine.busy) / span : Number.NaN,
      serverMsPerRequest: this.serverPids().length > 0 ? per(this.serverMs() - this.startServer) : Number.NaN,
      clientMsPerRequest: per(this.clientMs() - this.startClient),
    };
  }
}

/** The share of one core the processes use over `ms` while nothing is asked of them (background work). */
export async function idleCpuShare(pids: () => readonly number[], ms: number): Promise<number> {
  const meter = new CpuMeter(pids);
  meter.start();
  await new Promise((r) => setTimeout(r, ms));
  // One "request" of `ms` milliseconds: the CPU milliseconds per elapsed millisecond.
  return meter.stop(ms).serverMsPerRequest;
}
