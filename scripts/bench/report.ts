import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchOptions } from './args.js';
import type { ClosedResult, WithCpu } from './load.js';
import type { Machine } from './machine.js';
import type { Summary } from './stats.js';
import type { Check } from './verdict.js';

export interface JourneyResult {
  key: string;
  name: string;
  closed: WithCpu<ClosedResult>;
  open: WithCpu<Summary>;
  /** Closed-loop throughput over the plain INSERT baseline's, and over the Fastify ceiling's. */
  ratioToInsert: number;
  ratioToCeiling: number;
}

export interface ScaleOutResult {
  journey: string;
  /** The same closed loop against one of the two processes, then round-robin over both. */
  one: WithCpu<ClosedResult>;
  two: WithCpu<ClosedResult>;
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
  baselines: {
    ceiling: { closed: WithCpu<ClosedResult>; open: WithCpu<Summary> };
    /** Plain INSERT transactions at the start and at the end of the run; the ratios use their mean. */
    insert: WithCpu<ClosedResult>;
    insertEnd: WithCpu<ClosedResult>;
    insertRps: number;
  };
  journeys: JourneyResult[];
  gatewayPeakRssMiB: number | undefined;
  /** Share of a core the gateway used while idle (sequencer, outbox relay, queue worker, registry watch). */
  gatewayIdleCpu: number;
  scaleOut: ScaleOutResult | undefined;
  /** Ledger entries per action at the end, against the requests each journey answered. */
  ledger: { drained: boolean; entries: Record<string, number>; answered: Record<string, number> };
  checks: Check[];
}

const num = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const ms = (v: number) => num(v, v < 10 ? 2 : 1);
const pad = (s: string, n: number) => s.padStart(n);
const pct = (share: number) => (Number.isFinite(share) ? `${num(share * 100)}%` : '-');

type Closed = WithCpu<ClosedResult>;
type Open = WithCpu<Summary>;

const COLUMNS: Array<[string, number]> = [
  ['', 20],
  ['req/s', 8],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['×INSERT', 8],
  ['×ceil', 7],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['srv CPU', 9],
  ['bench CPU', 10],
  ['busy', 6],
  ['errors', 7],
];

const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[0]?.[1] ?? 20) : pad(c, COLUMNS[i]?.[1] ?? 8))).join('');

function row(name: string, closed: Closed, ratios: [number, number] | undefined, open?: Open): string {
  const cpu = closed.cpu;
  return line([
    name,
    num(closed.rps),
    ms(closed.p50),
    ms(closed.p99),
    ratios ? num(ratios[0], 2) : '',
    ratios ? num(ratios[1], 2) : '',
    open ? ms(open.p50) : '',
    open ? ms(open.p99) : '',
    ms(cpu.serverMsPerRequest),
    ms(cpu.clientMsPerRequest),
    pct(cpu.machineBusy),
    String(closed.errors + (open?.errors ?? 0)),
  ]);
}

/** The printed report: a table of every measurement, then each target's verdict. */
export function formatReport(r: BenchResult): string[] {
  const o = r.options;
  const lines = [
    '',
    `${''.padEnd(20)}${`closed loop, ${o.concurrency} in flight`.padEnd(39)}${`${o.rate} req/s`.padEnd(16)}closed loop: CPU ms/req, machine`,
    line(COLUMNS.map(([title]) => title)),
    row('Fastify ceiling', r.baselines.ceiling.closed, undefined, r.baselines.ceiling.open),
    row('plain INSERT tx', r.baselines.insert, undefined),
    row('  again at the end', r.baselines.insertEnd, undefined),
  ];
  for (const j of r.journeys) {
    lines.push(row(j.name, j.closed, [j.ratioToInsert, j.ratioToCeiling], j.open));
    if (j.closed.exhausted)
      lines.push(`${''.padEnd(22)}(ran out of prepared requests after ${num(j.closed.seconds, 1)} s)`);
  }
  lines.push(
    '',
    "srv CPU: CPU time of the server process(es) per answered request; bench CPU: the load generator's (and",
    "for INSERT, the bench's pg client); busy: share of all cores busy with anyone's work during the loop.",
    `×INSERT: against ${num(r.baselines.insertRps)} tx/s, the mean of the INSERT baseline at the start and at the end.`,
    `gateway peak RSS (VmHWM): ${r.gatewayPeakRssMiB === undefined ? 'not read' : `${num(r.gatewayPeakRssMiB)} MiB`}; CPU while idle: ${pct(r.gatewayIdleCpu)} of a core`,
  );
  if (r.scaleOut) {
    const s = r.scaleOut;
    lines.push(
      `scale-out (${s.journey}, closed loop): one process ${num(s.one.rps)} req/s, two processes round-robin ${num(s.two.rps)} req/s: ×${num(s.ratio, 2)}`,
      `  p99 ${ms(s.one.p99)} → ${ms(s.two.p99)} ms; gateway CPU ${ms(s.one.cpu.serverMsPerRequest)} → ${ms(s.two.cpu.serverMsPerRequest)} ms/req; machine busy ${pct(s.one.cpu.machineBusy)} → ${pct(s.two.cpu.machineBusy)}; peak RSS ${s.peakRssMiB.map((m) => num(m)).join(' / ')} MiB`,
    );
    if (s.one.cpu.machineBusy >= 0.9) {
      lines.push(
        `  the cores were already ${pct(s.one.cpu.machineBusy)} busy with one process: the second had no idle core to add`,
      );
    }
  }
  const m = r.machine;
  lines.push(
    `load average (1, 5, 15 min): ${m.loadAverageAtStart.join(' ')} at start, ${(m.loadAverageAtEnd ?? []).join(' ') || '-'} at the end, on ${m.cores} cores`,
  );
  if (!r.ledger.drained) lines.push('ledger: the sequencer had not chained every queued entry within 30 s');
  lines.push('', 'targets (and the ledger: every answered request has its entry)');
  for (const c of r.checks) {
    const digits = c.measured < 10 ? 2 : 1;
    lines.push(
      `  ${c.verdict}  ${c.what.padEnd(56)} ${pad(num(c.measured, digits), 8)}  (${c.target})${c.note ? `  ${c.note}` : ''}`,
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
