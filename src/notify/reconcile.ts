import type { Db } from '../store/index.js';
import { recordDeadLetter } from './dead-letters.js';
import { withTimeout } from './deadline.js';
import { resolveUnsettled, takeUnsettled, type UnsettledRow } from './outbox.js';
import { jobIdOf, type NotifyQueue } from './queue.js';

export interface ReconcilerLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ReconcilerOptions {
  db: Db;
  queue: Pick<NotifyQueue, 'standing'>;
  redisUp: () => boolean;
  logger: ReconcilerLogger;
  /** Told how many events Redis had lost and were handed back to the relay (metrics). */
  onRequeued?: (n: number) => void;
  intervalMs?: number;
  batchSize?: number;
}

export interface Reconciler {
  /** Checks every relayed, unsettled row once; returns how many were handed back to the relay. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/** A failure reason of ours is a code (webhook.ts); anything else (a stalled worker) is reported as one. */
const CODE = /^[a-z0-9_]{1,40}$/;

/**
 * Stage 3½ (docs/notifications.md "Redis loses its data"): between relay and delivery an event's job
 * lives only in Redis, so a Redis that restarts without its data, or a failover that drops the last
 * writes, would lose it. The reconciler walks the relayed rows the queue has not settled, a batch per
 * tick, and asks the queue about each job: finished ones are settled (a job that failed without its dead
 * letter, a worker lost too often mid-try, gets one now), and missing ones go back to the relay, which
 * queues them again under the same job id. An event may so arrive twice, never zero times. When a batch
 * finds a loss the walk goes on at once, so a Redis that lost everything is caught up in one pass.
 */
export function startReconciler(opts: ReconcilerOptions): Reconciler {
  const intervalMs = opts.intervalMs ?? 2000;
  const batchSize = opts.batchSize ?? 200;
  let cursor = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const settleFailed = async (row: UnsettledRow, attempts: number, reason: string) => {
    await recordDeadLetter(opts.db, {
      eventId: row.eventId,
      agency: row.agency,
      type: row.type,
      attempts: Math.max(1, attempts),
      lastError: CODE.test(reason) ? reason : 'worker_lost',
    });
  };

  /** One batch from the cursor; returns the rows handed back, or null when the walk reached the end. */
  const batch = async (): Promise<number | null> => {
    const rows = await takeUnsettled(opts.db, cursor, batchSize);
    if (rows.length === 0) {
      cursor = 0;
      return null;
    }
    const settled: UnsettledRow[] = [];
    const missing: UnsettledRow[] = [];
    for (const row of rows) {
      const standing = await withTimeout(
        opts.queue.standing(jobIdOf(row.eventId, row.replays)),
        5000,
        'the queue',
      );
      if (standing.state === 'missing') missing.push(row);
      else if (standing.state === 'completed') settled.push(row);
      else if (standing.state === 'failed') {
        await settleFailed(row, standing.attempts, standing.reason);
        settled.push(row);
      }
    }
    await resolveUnsettled(opts.db, settled, 'settle');
    const requeued = await resolveUnsettled(opts.db, missing, 'unrelay');
    cursor = rows.length < batchSize ? 0 : (rows[rows.length - 1]?.rowId ?? 0);
    return requeued;
  };

  /** Walks from the cursor: the whole way (`full`), or while batches keep finding losses. */
  const walk = async (full: boolean): Promise<number> => {
    if (!opts.redisUp()) return 0;
    let requeued = 0;
    try {
      for (;;) {
        const n = await batch();
        if (n === null) break;
        requeued += n;
        if (cursor === 0 || stopped || (!full && n === 0)) break;
      }
    } catch (err) {
      opts.logger.error({ err }, 'outbox reconciliation failed; it runs again shortly');
    }
    if (requeued > 0) {
      opts.logger.warn({ events: requeued }, 'the queue had lost relayed events; they are relayed again');
      opts.onRequeued?.(requeued);
    }
    return requeued;
  };

  /** One walk at a time in this process. */
  const walkOnce = (full: boolean): Promise<number> => {
    const next = (running ?? Promise.resolve(0)).then(() => {
      if (full) cursor = 0;
      return walk(full);
    });
    const mine = next.finally(() => {
      if (running === mine) running = undefined;
    });
    running = mine;
    return mine;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void walkOnce(false).finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    sweep: () => walkOnce(true),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
