import { Redis } from 'ioredis';

/**
 * The connection for request-path work (rate limits, readiness). Commands fail at once while Redis is
 * down instead of queueing, so that a Redis outage slows no request; it reconnects in the background.
 */
export function openRedis(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 250, 2000),
  });
  // Without a listener ioredis would crash the process on a connection error; readiness reports it.
  redis.on('error', () => {});
  return redis;
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
