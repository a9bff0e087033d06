import { type JobsOptions, Queue } from 'bullmq';
import { withTimeout } from './deadline.js';
import type { NotifyEvent } from './event.js';

/** The queue of webhook deliveries; its keys live under the prefix below. */
export const WEBHOOK_QUEUE = 'webhooks';

/**
 * Every BullMQ key of a deployment starts with its gateway id (SGW_GATEWAY_ID), so that two deployments
 * sharing one Redis never take each other's jobs.
 */
export function queuePrefix(gatewayId: string): string {
  return `sgw:${gatewayId}`;
}

/** The BullMQ job id of an event: its own id, and a suffix for each replay of a dead letter. */
export function jobIdOf(eventId: string, replays: number): string {
  return replays === 0 ? eventId : `${eventId}-replay-${replays}`;
}

/** An outbox row as the relay hands it over. */
export interface RelayedEvent extends NotifyEvent {
  replays: number;
}

/** What the queue knows of a job: gone (or never there), still to run, or finished. */
export type JobStanding =
  | { state: 'missing' }
  | { state: 'pending' }
  | { state: 'completed' }
  | { state: 'failed'; attempts: number; reason: string };

export interface NotifyQueue {
  /** Resolves once Redis holds every job (an event already queued under its job id is not added twice). */
  enqueue(events: readonly RelayedEvent[]): Promise<void>;
  standing(jobId: string): Promise<JobStanding>;
  /** Jobs by state (waiting, active, delayed, completed, failed…). */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface QueueSettings {
  redisUrl: string;
  gatewayId: string;
  maxAttempts: number;
  onError?: (err: Error) => void;
}

/** Completed jobs stay a day, so that an event relayed twice (a relay dying between its steps) is not sent twice. */
const KEEP_COMPLETED = { age: 24 * 3600, count: 100_000 };
/** Dead letters are in the database; failed jobs stay a week for an operator's look in Redis. */
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 100_000 };

function jobOptions(eventId: string, replays: number, maxAttempts: number): JobsOptions {
  return {
    jobId: jobIdOf(eventId, replays),
    attempts: maxAttempts,
    backoff: { type: 'webhook' },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
}

/**
 * The producer side, used by the relay, which adds nothing while Redis is down (its redisUp check) and
 * bounds an add in flight when Redis goes away by a timeout; a command gives up after one reconnection
 * attempt. (Not enableOfflineQueue: false: BullMQ's close sends QUIT, which that setting makes throw
 * while Redis is away, leaving the connection open.)
 */
export function openQueue(settings: QueueSettings): NotifyQueue {
  const queue = new Queue<NotifyEvent>(WEBHOOK_QUEUE, {
    connection: {
      url: settings.redisUrl,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(times * 250, 2000),
    },
    prefix: queuePrefix(settings.gatewayId),
  });
  // Without a listener an 'error' event would end the process; readiness and the relay report the outage.
  queue.on('error', (err) => settings.onError?.(err));
  return {
    async enqueue(events) {
      if (events.length === 0) return;
      await queue.addBulk(
        events.map((e) => ({
          name: e.type,
          data: { id: e.id, agency: e.agency, type: e.type, occurredAt: e.occurredAt, data: e.data },
          opts: jobOptions(e.id, e.replays, settings.maxAttempts),
        })),
      );
    },
    async standing(jobId) {
      // One call for most jobs; only a failed one is read whole, for its tries and reason.
      const state = await queue.getJobState(jobId);
      if (state === 'unknown') return { state: 'missing' };
      if (state === 'completed') return { state: 'completed' };
      if (state !== 'failed') return { state: 'pending' };
      const job = await queue.getJob(jobId);
      if (!job) return { state: 'missing' };
      return { state: 'failed', attempts: job.attemptsMade, reason: job.failedReason };
    },
    async counts() {
      return queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    },
    async close() {
      await queue.close();
    },
  };
}

/**
 * Removes a deployment's webhook queue from Redis with everything in it: for a throwaway gateway (the
 * demo). Without Redis there is nothing to remove; it gives up within seconds and does not throw.
 */
export async function dropWebhookQueue(redisUrl: string, gatewayId: string): Promise<void> {
  const queue = new Queue(WEBHOOK_QUEUE, {
    connection: { url: redisUrl, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null },
    prefix: queuePrefix(gatewayId),
    // Opened only to be removed: its own start-up write of the queue's metadata could land after the
    // removal and leave a key behind.
    skipMetasUpdate: true,
  });
  queue.on('error', () => {});
  try {
    await withTimeout(queue.obliterate({ force: true }), 5000, 'the queue');
  } catch {
    // Redis away: nothing of the queue can be removed now, and nothing is lost by leaving it.
  } finally {
    await queue.close().catch(() => {});
  }
}
