import { Redis } from 'ioredis';

/** The longest a request waits on Redis: a local or managed Redis answers in a millisecond or two. */
const REDIS_COMMAND_TIMEOUT_MS = 1000;

/**
 * The connection for request-path work (rate limits, readiness). Commands fail at once while Redis is
 * down instead of queueing, so that a Redis outage slows no request; it reconnects in the background.
 * A Redis that is connected but does not answer (stalled, or a network that drops packets without
 * resetting the connection) fails a command after REDIS_COMMAND_TIMEOUT_MS, and the connection is then
 * made again, so that the requests after it see Redis as down (status not "ready") instead of each
 * waiting its own timeout; it is "ready" again once Redis answers the reconnection's ready check.
 */
export function openRedis(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 250, 2000),
  });
  // Without a listener ioredis would crash the process on a connection error; readiness reports it.
  redis.on('error', () => {});
  return redis;
}

/** ioredis's error for a command that got no answer within commandTimeout. */
const TIMED_OUT = 'Command timed out';

/**
 * Called with a failed command's error: when Redis did not answer in time, the connection is made again
 * (see openRedis). Any other failure is left to ioredis, which already reconnects after a lost connection.
 */
export function noteRedisFailure(redis: Redis, err: unknown): void {
  if (err instanceof Error && err.message === TIMED_OUT && redis.status === 'ready') redis.disconnect(true);
}

/**
 * Waits until the connection is ready, it fails, or `ms` pass, whichever comes first; never rejects.
 * At start-up this keeps the first requests' rate-limit counts in Redis, shared with the other gateway
 * processes, instead of in this process's fallback counters, which Redis would then not see.
 */
export function redisSettled(redis: Redis, ms = 2000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
    redis.once('error', done);
  });
}
