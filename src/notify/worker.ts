import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { WebhookConfig } from '../config/index.js';
import type { AgencyRecord } from '../registry/index.js';
import type { Db } from '../store/index.js';
import { recordDeadLetter } from './dead-letters.js';
import type { NotifyEvent } from './event.js';
import { queuePrefix, WEBHOOK_QUEUE } from './queue.js';
import { type DeliveryOptions, type FailureCode, postWebhook } from './webhook.js';

/** How a job ended, or one try of it: the label of the deliveries metric. */
export type DeliveryResult =
  | 'delivered'
  | 'no_webhook'
  | 'http_error'
  | 'redirect_refused'
  | 'timeout'
  | 'connection_error'
  | 'tls_error'
  | 'address_refused'
  | 'dead_lettered';

function resultOf(code: FailureCode): DeliveryResult {
  if (code.startsWith('status_')) return 'http_error';
  switch (code) {
    case 'redirect_refused':
    case 'timeout':
    case 'tls_error':
      return code;
    case 'address_refused':
    case 'scheme_refused':
    case 'url_invalid':
    case 'dns_error':
      return 'address_refused';
    default:
      return 'connection_error';
  }
}

/** Jitter adds up to this share of each wait, so that retries of many events do not arrive together. */
const JITTER = 0.25;

/**
 * The wait before try n + 1 after n failed tries: `backoffMs` doubled n - 1 times, plus jitter. Never
 * less than the doubling alone, so the schedule's total is a floor an operator can count on.
 */
export function backoffDelay(
  failedTries: number,
  backoffMs: number,
  random: () => number = Math.random,
): number {
  const base = backoffMs * 2 ** Math.max(0, failedTries - 1);
  return Math.round(base * (1 + random() * JITTER));
}

/** The least total wait from the first try to the last (jitter only adds): docs and config checks. */
export function minimumSchedule(maxAttempts: number, backoffMs: number): number {
  let total = 0;
  for (let n = 1; n < maxAttempts; n++) total += backoffDelay(n, backoffMs, () => 0);
  return total;
}

/** Secrets that sign now: the current one, and the previous one while its grace period lasts. */
export function signingSecrets(agency: AgencyRecord, now = new Date()): string[] {
  const previous =
    agency.previousWebhookSecret !== undefined &&
    agency.previousWebhookSecretUntil !== undefined &&
    Date.parse(agency.previousWebhookSecretUntil) > now.getTime()
      ? [agency.previousWebhookSecret]
      : [];
  return [agency.webhookSecret, ...previous];
}

export interface WorkerLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WebhookWorkerOptions {
  redisUrl: string;
  gatewayId: string;
  db: Db;
  /** The registry as it stands now (hot-reloaded): URL, secrets and status are read at each try. */
  agency: (id: string) => AgencyRecord | undefined;
  webhooks: WebhookConfig;
  /** The extra CA's PEM (SGW_WEBHOOK_CA_FILE), read once at start. */
  extraCa: string | undefined;
  logger: WorkerLogger;
  onResult?: (agency: string, result: DeliveryResult) => void;
  concurrency?: number;
}

export interface WebhookWorker {
  /**
   * Stops taking jobs. With Redis up it waits for the deliveries in flight; with Redis away (`redisUp`
   * false) it does not: BullMQ's wait for them would never end while its connection is reconnecting
   * (taskforcesh/bullmq#4656), and a delivery cut short is only retried, by this or another gateway.
   */
  close(redisUp: boolean): Promise<void>;
}

/**
 * Stage 3, deliver: one try per run of a job. A 2xx completes the job; anything else fails the try and
 * BullMQ runs it again after backoffDelay, until the job's last try, which writes the dead letter
 * (stage 4) before the job fails for good. When the database cannot take the dead letter, the job
 * waits and tries once more rather than vanish unrecorded.
 */
export function startWebhookWorker(opts: WebhookWorkerOptions): WebhookWorker {
  const delivery: DeliveryOptions = {
    allowHttpLoopback: opts.webhooks.allowHttpLoopback,
    timeoutMs: opts.webhooks.timeoutMs,
    extraCa: opts.extraCa,
  };
  const report = (agency: string, result: DeliveryResult) => opts.onResult?.(agency, result);

  const processJob = async (job: Job<NotifyEvent>, token?: string): Promise<DeliveryResult> => {
    const event = job.data;
    const agency = opts.agency(event.agency);
    if (agency?.status !== 'active' || !agency.webhookUrl) {
      // The inbox holds the event; an agency without a webhook (or suspended) is not nudged.
      report(event.agency, 'no_webhook');
      return 'no_webhook';
    }
    const outcome = await postWebhook(agency.webhookUrl, signingSecrets(agency), event, delivery);
    if (outcome.ok) {
      report(event.agency, 'delivered');
      return 'delivered';
    }
    report(event.agency, resultOf(outcome.code));
    const tries = job.attemptsMade + 1;
    const lastTry = tries >= (job.opts.attempts ?? opts.webhooks.maxAttempts);
    if (!lastTry) throw new Error(outcome.code);
    try {
      await recordDeadLetter(opts.db, {
        eventId: event.id,
        agency: event.agency,
        type: event.type,
        attempts: tries,
        lastError: outcome.code,
      });
    } catch (err) {
      opts.logger.error({ err, eventId: event.id }, 'could not record a dead letter; the event waits');
      await job.moveToDelayed(Date.now() + opts.webhooks.backoffMs, token);
      throw new DelayedError();
    }
    report(event.agency, 'dead_lettered');
    opts.logger.warn(
      { eventId: event.id, agency: event.agency, attempts: tries, lastError: outcome.code },
      'webhook dead-lettered',
    );
    throw new UnrecoverableError(outcome.code);
  };

  const worker = new Worker<NotifyEvent, DeliveryResult>(WEBHOOK_QUEUE, processJob, {
    // Reconnects within 2 s of Redis coming back (BullMQ's own default backs off to 20 s).
    connection: {
      url: opts.redisUrl,
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => Math.min(times * 250, 2000),
    },
    prefix: queuePrefix(opts.gatewayId),
    concurrency: opts.concurrency ?? 8,
    // A gateway that dies mid-delivery leaves a stalled job: it is tried again, not failed unrecorded.
    maxStalledCount: 10,
    settings: {
      backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, opts.webhooks.backoffMs),
    },
  });
  // Without a listener an 'error' event would end the process; a Redis outage is reported by readiness.
  worker.on('error', () => {});
  return {
    async close(redisUp) {
      await worker.close(!redisUp);
    },
  };
}
