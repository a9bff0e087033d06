/**
 * Notifications: outbox → relay → deliver → dead letter (docs/notifications.md). Knows no journey: it
 * moves whatever events the ledger's write path put in the outbox to the recipient agencies' webhooks.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/index.js';
import type { AgencyRecord } from '../registry/index.js';
import type { Db } from '../store/index.js';
import type { NotifyMetrics } from './metrics.js';
import { type OutboxBacklog, outboxBacklog } from './outbox.js';
import { openQueue } from './queue.js';
import { startReconciler } from './reconcile.js';
import { startRelay } from './relay.js';
import { startWebhookWorker } from './worker.js';

export { type DeadLetter, listDeadLetters, replayDeadLetters } from './dead-letters.js';
export type { NotifyEvent } from './event.js';
export { type NotifyMetrics, registerNotifyMetrics } from './metrics.js';
export { type OutboxBacklog, outboxBacklog } from './outbox.js';
export { dropWebhookQueue } from './queue.js';
export { signatureHeader } from './signature.js';
export { type CheckedTarget, checkWebhookUrl, type UrlPolicy, WebhookUrlRefused } from './ssrf.js';
export { type DeliveryOutcome, postWebhook } from './webhook.js';
export { backoffDelay, type DeliveryResult, minimumSchedule, signingSecrets } from './worker.js';

export interface NotifyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NotificationsOptions {
  config: Pick<Config, 'redisUrl' | 'gatewayId' | 'webhooks'>;
  db: Db;
  /** The registry as it stands now (hot-reloaded). */
  agency: (id: string) => AgencyRecord | undefined;
  /** Whether Redis answers now (the request path's connection): the relay waits while it does not. */
  redisUp: () => boolean;
  logger: NotifyLogger;
  /** The extra CA for receivers (readWebhookCa), read before anything is started. */
  extraCa: string | undefined;
  metrics?: NotifyMetrics;
  /** Tests: the relay's poll interval and a fault between enqueue and marking. */
  relay?: { intervalMs?: number; afterEnqueue?: () => Promise<void> };
  /** Tests: how often the reconciler walks the relayed rows the queue has not settled. */
  reconcileIntervalMs?: number;
}

export interface Notifications {
  /** Relays what the outbox holds now (the relay also does so on its own every interval). */
  drain(): Promise<number>;
  /** Checks every relayed, unsettled event against the queue now; returns how many Redis had lost. */
  reconcile(): Promise<number>;
  backlog(): Promise<OutboxBacklog>;
  queueCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Reads the extra CA for webhook receivers (SGW_WEBHOOK_CA_FILE); a missing file stops start-up. */
export function readWebhookCa(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new Error(`SGW_WEBHOOK_CA_FILE ${file} cannot be read`);
  }
}

/** Starts this process's relay and webhook worker; close() stops both and closes their connections. */
export function startNotifications(opts: NotificationsOptions): Notifications {
  const { config, db, logger } = opts;
  const queue = openQueue({
    redisUrl: config.redisUrl,
    gatewayId: config.gatewayId,
    maxAttempts: config.webhooks.maxAttempts,
  });
  const relay = startRelay({
    db,
    queue,
    redisUp: opts.redisUp,
    hasWebhook: (agency) => {
      const a = opts.agency(agency);
      return a?.status === 'active' && a.webhookUrl !== undefined;
    },
    ...(opts.metrics ? { onSkipped: (agency: string) => opts.metrics?.delivery(agency, 'no_webhook') } : {}),
    logger,
    ...(opts.relay?.intervalMs !== undefined ? { intervalMs: opts.relay.intervalMs } : {}),
    ...(opts.relay?.afterEnqueue ? { afterEnqueue: opts.relay.afterEnqueue } : {}),
  });
  const reconciler = startReconciler({
    db,
    queue,
    redisUp: opts.redisUp,
    logger,
    ...(opts.metrics ? { onRequeued: opts.metrics.requeued } : {}),
    ...(opts.reconcileIntervalMs !== undefined ? { intervalMs: opts.reconcileIntervalMs } : {}),
  });
  const worker = startWebhookWorker({
    redisUrl: config.redisUrl,
    gatewayId: config.gatewayId,
    db,
    agency: opts.agency,
    webhooks: config.webhooks,
    extraCa: opts.extraCa,
    logger,
    ...(opts.metrics ? { onResult: opts.metrics.delivery } : {}),
  });
  return {
    drain: () => relay.drain(),
    reconcile: () => reconciler.sweep(),
    backlog: () => outboxBacklog(db),
    queueCounts: () => queue.counts(),
    async close() {
      // Best effort, each step whatever the one before did: a gateway closing must close everything.
      const quietly = (what: string) => (err: unknown) => logger.warn({ err }, `closing the ${what} failed`);
      await relay.stop().catch(quietly('outbox relay'));
      await reconciler.stop().catch(quietly('outbox reconciler'));
      await worker.close(opts.redisUp()).catch(quietly('webhook worker'));
      await queue.close().catch(quietly('webhook queue'));
    },
  };
}
