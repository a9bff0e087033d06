import type { Summary } from './stats.js';

/** The targets (issue 11, item 1). */
export const TARGETS = {
  /** A ledgered journey's throughput as a share of plain single-row INSERT transactions a second. */
  ledgeredToInsert: 0.5,
  /** p99 latency at the open loop's fixed rate, in milliseconds: below this. */
  p99Ms: 50,
  /** Peak resident set of a gateway process, in MiB: below this. */
  rssMiB: 250,
} as const;

export type Verdict = 'PASS' | 'MISS';

export interface Check {
  /** What is checked, e.g. `flag search throughput`. */
  what: string;
  measured: number;
  /** How the measure compares with the limit, e.g. `>= 0.5 x INSERT`. */
  target: string;
  verdict: Verdict;
  /** Why a MISS is a MISS when the figure alone does not say (errors seen). */
  note?: string;
}

/** a / b, or NaN when there is no b to compare with. */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(b) ? a / b : Number.NaN;
}

const errorNote = (s: Summary): string | undefined =>
  s.errors > 0 ? `${s.errors} request(s) failed or were answered unexpectedly` : undefined;

function check(what: string, measured: number, target: string, holds: boolean, s?: Summary): Check {
  const note = s ? errorNote(s) : undefined;
  return {
    what,
    measured,
    target,
    verdict: holds && note === undefined ? 'PASS' : 'MISS',
    ...(note ? { note } : {}),
  };
}

/** A ledgered journey at saturation must reach half the plain INSERT rate, without failures. */
export function throughputCheck(journey: string, closed: Summary, insertTps: number): Check {
  const r = ratio(closed.rps, insertTps);
  return check(
    `${journey} throughput / INSERT tx/s`,
    r,
    `>= ${TARGETS.ledgeredToInsert}`,
    r >= TARGETS.ledgeredToInsert,
    closed,
  );
}

/**
 * At the fixed rate, p99 must stay under the limit, without failures. When the server answered well
 * below the rate asked, the requests queued behind each other: the note says so, since the p99 then
 * measures the queue more than a request.
 */
export function latencyCheck(journey: string, open: Summary, rate: number): Check {
  const c = check(
    `${journey} p99 at ${rate} req/s (ms)`,
    open.p99,
    `< ${TARGETS.p99Ms}`,
    open.p99 < TARGETS.p99Ms,
    open,
  );
  if (c.note === undefined && open.rps < rate * 0.95) {
    c.note = `answered ${Math.round(open.rps)} of the ${rate} req/s asked: requests queued`;
  }
  return c;
}

export function rssCheck(process: string, peakMiB: number): Check {
  return check(`${process} peak RSS (MiB)`, peakMiB, `< ${TARGETS.rssMiB}`, peakMiB < TARGETS.rssMiB);
}
