import { randomBytes, randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import t from 'tap';
import {
  dropWebhookQueue,
  jobIdOf,
  openQueue,
  queuePrefix,
  type RelayedEvent,
  WEBHOOK_QUEUE,
} from '../../src/notify/queue.js';
import { until } from '../helpers/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function event(replays = 0): RelayedEvent {
  return {
    id: randomUUID(),
    agency: 'gp-standing',
    type: 'request.received',
    occurredAt: new Date().toISOString(),
    data: { requestId: randomUUID() },
    replays,
  };
}

/**
 * The reconciler's unit test scripts the queue's answers; this one asks a real BullMQ in the real Redis,
 * so that each standing the reconciler acts on is what BullMQ reports for such a job.
 */
t.test(
  'a job is missing, pending, completed or failed (with its tries and reason) as BullMQ holds it',
  async (t) => {
    const gatewayId = `standing-${randomBytes(4).toString('hex')}`;
    const queue = openQueue({ redisUrl: REDIS_URL, gatewayId, maxAttempts: 1 });
    t.teardown(async () => {
      await queue.close();
      await dropWebhookQueue(REDIS_URL, gatewayId);
    });

    const delivered = event();
    const refused = event();
    const replayed = event(2);
    t.same(await queue.standing(jobIdOf(delivered.id, 0)), { state: 'missing' }, 'never queued');
    await queue.enqueue([delivered, refused, replayed]);
    t.same(await queue.standing(jobIdOf(delivered.id, 0)), { state: 'pending' }, 'waiting');
    t.same(
      await queue.standing(jobIdOf(replayed.id, 0)),
      { state: 'missing' },
      'a replay has a job id of its own',
    );

    const finished = new Set<string>();
    const worker = new Worker(
      WEBHOOK_QUEUE,
      async (job) => {
        if (job.data.id === refused.id) throw new UnrecoverableError('http_500');
      },
      { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix: queuePrefix(gatewayId) },
    );
    worker.on('error', () => {});
    worker.on('completed', (job) => finished.add(job.data.id));
    worker.on('failed', (job) => {
      if (job) finished.add(job.data.id);
    });
    t.ok(await until(() => finished.size === 3, 10_000), 'the worker ran every job');
    await worker.close();

    t.same(await queue.standing(jobIdOf(delivered.id, 0)), { state: 'completed' });
    t.same(await queue.standing(jobIdOf(replayed.id, 2)), { state: 'completed' });
    t.same(await queue.standing(jobIdOf(refused.id, 0)), {
      state: 'failed',
      attempts: 1,
      reason: 'http_500',
    });
  },
);
