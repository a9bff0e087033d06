import type { Ledger } from '../ledger/index.js';
import type { Db } from '../store/index.js';
import { sweepOverdueConcerns } from './concerns/overdue.js';
import { sweepOverdueRequests } from './requests/overdue.js';

export interface OverdueSweepLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Each journey's sweep: marks what is past its deadline, once, with its events. */
const SWEEPS = [
  { what: 'requests', sweep: sweepOverdueRequests },
  { what: 'concerns', sweep: sweepOverdueConcerns },
] as const;

/**
 * Sweeps every `intervalMs` until stopped, each journey in turn: one journey's failure neither stops the
 * other's sweep nor the next tick, and is logged once until that sweep works again.
 */
export function startOverdueSweep(opts: {
  db: Db;
  ledger: Ledger;
  logger: OverdueSweepLogger;
  intervalMs?: number;
  now?: () => Date;
}): { stop(): Promise<void> } {
  const intervalMs = opts.intervalMs ?? 15_000;
  const now = opts.now ?? (() => new Date());
  const failing = new Set<string>();
  let running: Promise<void> | undefined;
  const tick = async () => {
    for (const { what, sweep } of SWEEPS) {
      try {
        const n = await sweep(opts.db, opts.ledger, now());
        if (n > 0) opts.logger.info({ [what]: n }, `${what} marked overdue`);
        failing.delete(what);
      } catch (err) {
        if (!failing.has(what)) opts.logger.error({ err }, `overdue sweep of ${what} failed`);
        failing.add(what);
      }
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
