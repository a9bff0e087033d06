import type { Findings, Window } from './checks.js';
import type { LoggedError } from './cluster.js';
import type { Op } from './load.js';

/** The suite's figures and its verdict, as lines for a person to read (no personal data: ids and codes). */

export interface Figures {
  requests: number;
  successes: number;
  /** Successes that showed personal data (released or read request data, a flag found). */
  disclosures: number;
  /** 503 answers by code. */
  unavailable: Record<string, number>;
  /** Calls no gateway answered at all (every one refused or reset). */
  unanswered: number;
  /** Answers that came from a second gateway after the first gave none. */
  failedOver: number;
  /** Every other status, counted. */
  other: Record<string, number>;
  byKind: Record<string, { requests: number; successes: number }>;
}

const ok = (op: Op) => op.status >= 200 && op.status < 300;

export function figures(ops: readonly Op[]): Figures {
  const f: Figures = {
    requests: ops.length,
    successes: 0,
    disclosures: 0,
    unavailable: {},
    unanswered: 0,
    failedOver: 0,
    other: {},
    byKind: {},
  };
  for (const op of ops) {
    const k = f.byKind[op.kind] ?? { requests: 0, successes: 0 };
    f.byKind[op.kind] = k;
    k.requests++;
    if (op.failovers > 0 && op.status !== 0) f.failedOver++;
    if (op.disclosed) f.disclosures++;
    if (ok(op)) {
      f.successes++;
      k.successes++;
    } else if (op.status === 503) {
      const code = op.code ?? 'no code';
      f.unavailable[code] = (f.unavailable[code] ?? 0) + 1;
    } else if (op.status === 0) {
      f.unanswered++;
    } else {
      const key = `${op.status} ${op.code ?? ''}`.trim();
      f.other[key] = (f.other[key] ?? 0) + 1;
    }
  }
  return f;
}

/** The p-th percentile of the calls' durations, in ms. */
function percentile(ops: readonly Op[], p: number): number {
  const d = ops.map((op) => op.ended - op.started).sort((a, b) => a - b);
  return d.length === 0 ? 0 : (d[Math.min(d.length - 1, Math.floor((p / 100) * d.length))] ?? 0);
}

/** Counts of what was answered in each fault's window (calls that started inside it), and how fast. */
export function perWindow(ops: readonly Op[], windows: readonly Window[]): string[] {
  return windows.map((w) => {
    const inside = ops.filter((op) => op.started >= w.from && op.started <= w.to);
    const f = figures(inside);
    const s = Object.entries(f.unavailable).map(([c, n]) => `503 ${c} ${n}`);
    return `${w.name} (${((w.to - w.from) / 1000).toFixed(1)} s): ${f.requests} calls, ${f.successes} ok, ${[
      ...s,
      `unanswered ${f.unanswered}`,
      `failed over ${f.failedOver}`,
      `p50 ${percentile(inside, 50)} ms`,
      `max ${percentile(inside, 100)} ms`,
    ].join(', ')}`;
  });
}

export function lostCount(findings: Findings): number {
  return findings.ledgerMissing.length + findings.eventsMissing.length;
}

export function reportLines(
  ops: readonly Op[],
  windows: readonly Window[],
  findings: Findings,
  logged: readonly LoggedError[],
): string[] {
  const f = figures(ops);
  const lost = lostCount(findings);
  const counted = (r: Record<string, number>) =>
    Object.entries(r)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  const errors = new Map<string, number>();
  for (const e of logged) {
    const key = `gateway ${e.gateway}: ${e.msg}${e.err ? ` (${e.err})` : ''}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
  }
  return [
    `requests = ${f.requests}, successes = ${f.successes} (disclosures ${f.disclosures}), 503 = ${counted(f.unavailable)}`,
    `latency p50 ${percentile(ops, 50)} ms, p99 ${percentile(ops, 99)} ms, max ${percentile(ops, 100)} ms`,
    `unanswered = ${f.unanswered}, answered after a failover = ${f.failedOver}, other = ${counted(f.other)}`,
    ...Object.entries(f.byKind).map(([k, v]) => `  ${k}: ${v.requests} calls, ${v.successes} ok`),
    ...perWindow(ops, windows),
    `while PostgreSQL was away: ${counted(findings.duringOutage)}; 2xx = ${findings.disclosedDuringOutage}`,
    `ledger: every success has its entry? missing = ${findings.ledgerMissing.length}`,
    `webhooks: ${findings.eventsTotal} events, missing = ${findings.eventsMissing.length}, dead letters = ${findings.deadLetters}`,
    `audit verify: ${findings.verify.ok ? 'ok' : 'FAILED'}, ${findings.verify.entries ?? '?'} entries${
      findings.verify.reason ? ` (${findings.verify.reason})` : ''
    }`,
    ...[...errors].map(([k, n]) => `logged error ×${n}: ${k}`),
    lost === 0 ? 'lost = 0' : `lost = ${lost}`,
    ...[...findings.ledgerMissing, ...findings.eventsMissing].map((m) => `  lost: ${m.what}: ${m.ref}`),
  ];
}
