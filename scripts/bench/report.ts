import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchOptions } from './args.js';
import type { ClosedResult } from './load.js';
import type { Machine } from './machine.js';
import type { Summary } from './stats.js';
import type { Check } from './verdict.js';

export interface JourneyResult {
  key: string;
  name: string;
  closed: ClosedResult;
  open: Summary;
  /** Closed-loop throughput over the plain INSERT baseline's, and over the Fastify ceiling's. */
  ratioToInsert: number;
  ratioToCeiling: number;
}

export interface ScaleOutResult {
  journey: string;
  /** The same closed loop against one of the two processes, then round-robin over both. */
  one: ClosedResult;
  two: ClosedResult;
  ratio: number;
  peakRssMiB: number[];
}

/** Everything one run measured; written as JSON so that runs can be compared. */
export interface BenchResult {
  format: 'sgw-bench/1';
  startedAt: string;
  finishedAt: string;
  options: Omit<BenchOptions, 'help'>;
  machine: Machine;
  baselines: { ceiling: { closed: ClosedResult; open: Summary }; insert: ClosedResult };
  journeys: JourneyResult[];
  gatewayPeakRssMiB: number | undefined;
  scaleOut: ScaleOutResult | undefined;
  checks: Check[];
}

const num = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const ms = (v: number) => num(v, v < 10 ? 2 : 1);
const pad = (s: string, n: number) => s.padStart(n);

function row(name: string, closed: Summary, ratios: [number, number] | undefined, open?: Summary): string {
  const errors = closed.errors + (open?.errors ?? 0);
  return [
    name.padEnd(22),
    pad(num(closed.rps), 8),
    pad(ms(closed.p50), 8),
    pad(ms(closed.p99), 8),
    pad(ratios ? num(ratios[0], 2) : '', 8),
    pad(ratios ? num(ratios[1], 2) : '', 9),
    pad(open ? ms(open.p50) : '', 9),
    pad(open ? ms(open.p99) : '', 9),
    pad(String(errors), 7),
  ].join('');
}

/** The printed report: a table of every measurement, then each target's verdict. */
export function formatReport(r: BenchResult): string[] {
  const o = r.options;
  const lines = [
    '',
    `${''.padEnd(22)}${`closed loop, ${o.concurrency} in flight`.padEnd(49)}${`open loop, ${o.rate} req/s`}`,
    `${''.padEnd(22)}${pad('req/s', 8)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('×INSERT', 8)}${pad('×ceiling', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('errors', 7)}`,
    row('Fastify ceiling', r.baselines.ceiling.closed, undefined, r.baselines.ceiling.open),
    row('plain INSERT tx', r.baselines.insert, undefined),
  ];
  for (const j of r.journeys) {
    lines.push(row(j.name, j.closed, [j.ratioToInsert, j.ratioToCeiling], j.open));
    if (j.closed.exhausted)
      lines.push(`${''.padEnd(22)}(ran out of prepared requests after ${num(j.closed.seconds, 1)} s)`);
  }
  lines.push(
    '',
    `gateway peak RSS (VmHWM): ${r.gatewayPeakRssMiB === undefined ? 'not read' : `${num(r.gatewayPeakRssMiB)} MiB`}`,
  );
  if (r.scaleOut) {
    const s = r.scaleOut;
    lines.push(
      `scale-out (${s.journey}, closed loop): one process ${num(s.one.rps)} req/s, two processes round-robin ${num(s.two.rps)} req/s: ×${num(s.ratio, 2)} (p99 ${ms(s.one.p99)} → ${ms(s.two.p99)} ms; peak RSS ${s.peakRssMiB.map((m) => num(m)).join(' / ')} MiB)`,
    );
  }
  lines.push('', 'targets');
  for (const c of r.checks) {
    const digits = c.measured < 10 ? 2 : 1;
    lines.push(
      `  ${c.verdict}  ${c.what.padEnd(48)} ${pad(num(c.measured, digits), 8)}  (${c.target})${c.note ? `  ${c.note}` : ''}`,
    );
  }
  return lines;
}

/** `bench-results/2026-11-27T10-02-03Z.json`: an ISO date without the colons file systems dislike. */
export function resultFileName(date: Date): string {
  return `${date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll(':', '-')}.json`;
}

export function writeResults(result: BenchResult, dir: string, date: Date): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, resultFileName(date));
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
