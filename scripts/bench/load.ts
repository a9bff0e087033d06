import { CpuMeter, type CpuUse } from './cpu.js';
import { type Summary, summarise } from './stats.js';

/**
 * One request of a journey: `ok` when answered as the journey expects, `error` otherwise, `exhausted`
 * when the journey has no more prepared data (a request can be released only once).
 */
export type Outcome = 'ok' | 'error' | 'exhausted';
export type Op = (i: number) => Promise<Outcome>;

const settle = (op: Op, i: number): Promise<Outcome> => op(i).catch((): Outcome => 'error');

export interface ClosedLoopOptions {
  concurrency: number;
  closedSeconds: number;
  warmupSeconds: number;
  /** Called when the warm-up ends and measuring begins. */
  onMeasureStart?: () => void;
}

export interface ClosedResult extends Summary {
  /** The journey ran out of prepared data before the time was up. */
  exhausted: boolean;
}

/**
 * Saturation: `concurrency` callers each send the next request as soon as the last is answered. Only
 * requests started after the warm-up count; the elapsed time runs to the last answer.
 */
export async function closedLoop(op: Op, opts: ClosedLoopOptions): Promise<ClosedResult> {
  const measureFrom = performance.now() + opts.warmupSeconds * 1000;
  const startHook = opts.onMeasureStart
    ? setTimeout(opts.onMeasureStart, opts.warmupSeconds * 1000)
    : undefined;
  const until = measureFrom + opts.closedSeconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  let exhausted = false;
  const caller = async () => {
    while (!exhausted && performance.now() < until) {
      const started = performance.now();
      const outcome = await settle(op, next++);
      if (outcome === 'exhausted') {
        exhausted = true;
        return;
      }
      if (started < measureFrom) continue;
      if (outcome === 'ok') latencies.push(performance.now() - started);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, caller));
  clearTimeout(startHook);
  const elapsed = Math.max(0, performance.now() - measureFrom);
  return { ...summarise(latencies, errors, elapsed), exhausted };
}

export interface OpenLoopOptions {
  /** Requests a second, sent on schedule whether or not earlier ones were answered. */
  rate: number;
  seconds: number;
}

/**
 * A fixed rate: request n is due at start + n / rate. Its latency runs from when it was due, not from
 * when it went out, so a stalled server shows in the percentiles instead of slowing the schedule
 * (coordinated omission). A journey out of data counts its missing requests as errors.
 */
export async function openLoop(op: Op, opts: OpenLoopOptions): Promise<Summary> {
  const interval = 1000 / opts.rate;
  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const fire = (n: number) => {
    const due = start + n * interval;
    const p = settle(op, n).then((outcome) => {
      if (outcome === 'ok') latencies.push(performance.now() - due);
      else errors++;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const dueNow = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      while (sent < dueNow) fire(sent++);
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  return summarise(latencies, errors, performance.now() - start);
}

/** A measurement with where the CPU went during it. */
export type WithCpu<T> = T & { cpu: CpuUse };

/** The closed loop, with the CPU of the server processes (`pids`), the bench and the machine. */
export async function closedLoopWithCpu(
  op: Op,
  opts: ClosedLoopOptions,
  pids: () => readonly number[],
): Promise<WithCpu<ClosedResult>> {
  const meter = new CpuMeter(pids);
  const result = await closedLoop(op, { ...opts, onMeasureStart: () => meter.start() });
  return { ...result, cpu: meter.stop(result.ok + result.errors) };
}

export async function openLoopWithCpu(
  op: Op,
  opts: OpenLoopOptions,
  pids: () => readonly number[],
): Promise<WithCpu<Summary>> {
  const meter = new CpuMeter(pids);
  meter.start();
  const result = await openLoop(op, opts);
  return { ...result, cpu: meter.stop(result.ok + result.errors) };
}
