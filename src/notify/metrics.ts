import { Counter, Gauge, type Registry } from 'prom-client';
import { readOrUnknown } from '../http/metrics.js';
import type { Queryable } from '../store/index.js';
import { openDeadLetterCounts } from './dead-letters.js';
import { withTimeout } from './deadline.js';
import { outboxBacklog } from './outbox.js';
import type { DeliveryResult } from './worker.js';

export interface NotifyMetricsSources {
  db: Queryable;
  /** BullMQ job counts by state; rejects (or is slow) while Redis is down. */
  queueCounts: () => Promise<Record<string, number>>;
}

export interface NotifyMetrics {
  /** Counts one try's result (or a job that needed none) for an agency. */
  delivery(agency: string, result: DeliveryResult): void;
  /** Counts relayed events the queue had lost, handed back to the relay. */
  requeued(n: number): void;
}

const QUEUE_TIMEOUT_MS = 1000;

/**
 * Outbox backlog and oldest age, queue depths, deliveries by result, open dead letters. Gauges read their
 * source at scrape time; a source that fails (Redis down) leaves its gauge empty rather than failing the
 * scrape, and `sgw_queue_up` says why.
 */
export function registerNotifyMetrics(registry: Registry, sources: NotifyMetricsSources): NotifyMetrics {
  const registers = [registry];
  const deliveries = new Counter({
    name: 'sgw_webhook_deliveries_total',
    help: 'Webhook tries and their results by recipient agency (delivered, no_webhook, http_error, timeout, …, dead_lettered)',
    labelNames: ['agency', 'result'] as const,
    registers,
  });
  const requeued = new Counter({
    name: 'sgw_outbox_requeued_total',
    help: 'Relayed events the queue (Redis) had lost before delivery, handed to the relay again',
    registers,
  });
  new Gauge({
    name: 'sgw_outbox_backlog',
    help: 'Events committed to the outbox and not yet handed to the queue',
    registers,
    collect: readOrUnknown<Gauge>(async (gauge) => {
      gauge.set((await outboxBacklog(sources.db)).backlog);
    }),
  });
  new Gauge({
    name: 'sgw_outbox_oldest_age_seconds',
    help: 'Age of the oldest event not yet handed to the queue (0 when there is none)',
    registers,
    collect: readOrUnknown<Gauge>(async (gauge) => {
      gauge.set((await outboxBacklog(sources.db)).oldestAgeSeconds ?? 0);
    }),
  });
  // One read of the queue's counts per scrape, shared by the two gauges below, which prom-client collects
  // at the same time.
  let reading: Promise<Record<string, number>> | undefined;
  const counts = () =>
    (reading ??= withTimeout(sources.queueCounts(), QUEUE_TIMEOUT_MS, 'the queue').finally(() => {
      reading = undefined;
    }));
  new Gauge({
    name: 'sgw_queue_up',
    help: '1 when the delivery queue (Redis) answered this scrape, else 0',
    registers,
    async collect() {
      this.set(
        await counts().then(
          () => 1,
          () => 0,
        ),
      );
    },
  });
  new Gauge({
    name: 'sgw_queue_jobs',
    help: 'Webhook jobs in the queue by state',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      this.reset();
      const byState = await counts().catch(() => ({}));
      for (const [state, n] of Object.entries(byState)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'sgw_webhook_dead_letters',
    help: 'Open (not replayed) webhook dead letters by agency',
    labelNames: ['agency'] as const,
    registers,
    collect: readOrUnknown<Gauge<'agency'>>(
      async (gauge) => {
        gauge.reset();
        for (const { agency, n } of await openDeadLetterCounts(sources.db)) gauge.set({ agency }, n);
      },
      { labelled: true },
    ),
  });
  return {
    delivery(agency, result) {
      deliveries.inc({ agency, result });
    },
    requeued(n) {
      requeued.inc(n);
    },
  };
}
