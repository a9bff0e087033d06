import type { Db } from '../store/index.js';
import { withTimeout } from './deadline.js';
import { markRelayed, takeUnrelayed } from './outbox.js';
import type { NotifyQueue } from './queue.js';

export interface RelayLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RelayOptions {
  db: Db;
  queue: Pick<NotifyQueue, 'enqueue'>;
  /** Whether Redis answers now: while it does not, the relay leaves the outbox alone. */
  redisUp: () => boolean;
  /**
   * Whether the agency has a webhook to nudge now. Events of agencies without one are marked relayed
   * without a job: they are in the agency's inbox, the source of truth, and Redis holds nothing for them.
   */
  hasWebhook: (agency: string) => boolean;
  /** Told of each event relayed without a job (metrics). */
  onSkipped?: (agency: string) => void;
  logger: RelayLogger;
  intervalMs?: number;
  batchSize?: number;
  /** How long an enqueue may take before the round gives up and rolls back (its rows stay unrelayed). */
  enqueueTimeoutMs?: number;
  /** Fault injection for tests: runs after the queue acknowledged a batch and before the rows are marked. */
  afterEnqueue?: () => Promise<void>;
}

export interface Relay {
  /** One pass until the outbox is empty or a round fails; returns how many events were relayed. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Stage 2 of outbox → relay → deliver → dead letter (docs/notifications.md). Each round, in one
 * database transaction: take the oldest unrelayed rows (one relay at a time, by advisory lock), hand
 * those of agencies with a webhook to the queue, and only once the queue acknowledged them mark the
 * rows relayed. A relay that dies in between leaves them unmarked and they are handed over again; the
 * queue knows them by job id and does not add them twice while it still holds them. Nothing here runs
 * on the request path.
 */
export function startRelay(opts: RelayOptions): Relay {
  const intervalMs = opts.intervalMs ?? 250;
  const batchSize = opts.batchSize ?? 200;
  const enqueueTimeoutMs = opts.enqueueTimeoutMs ?? 5000;
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  /** One batch; returns how many rows it relayed. */
  const round = async (): Promise<number> => {
    const { relayed, skipped } = await opts.db.transaction(async (tx) => {
      const events = await takeUnrelayed(tx, batchSize);
      if (events.length === 0) return { relayed: 0, skipped: [] };
      const jobs = events.filter((e) => opts.hasWebhook(e.agency));
      if (jobs.length > 0) await withTimeout(opts.queue.enqueue(jobs), enqueueTimeoutMs, 'the queue');
      await opts.afterEnqueue?.();
      const skipped = events.filter((e) => !jobs.includes(e));
      await markRelayed(
        tx,
        events.map((e) => e.rowId),
        skipped.map((e) => e.rowId),
      );
      return { relayed: events.length, skipped };
    });
    for (const e of skipped) opts.onSkipped?.(e.agency);
    return relayed;
  };

  const drain = async (): Promise<number> => {
    if (!opts.redisUp()) return 0;
    let total = 0;
    try {
      for (;;) {
        const n = await round();
        total += n;
        if (n < batchSize || stopped) break;
      }
      if (failing) opts.logger.info({}, 'outbox relay recovered');
      failing = false;
    } catch (err) {
      if (!failing) opts.logger.error({ err }, 'outbox relay round failed; events wait in the outbox');
      failing = true;
    }
    return total;
  };

  /** One drain at a time in this process, whether the timer or a caller asked for it. */
  const drainOnce = (): Promise<number> => {
    running ??= drain().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void drainOnce().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    drain: drainOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
