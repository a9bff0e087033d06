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
