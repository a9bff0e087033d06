import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from './errors.js';

export interface RateLimits {
  /** Requests per minute for one practitioner (agency + sub). */
  perPractitioner: number;
  /** Requests per minute for a whole agency. */
  perAgency: number;
}

type IncrCallback = (err: Error | null, res?: { current: number; ttl: number }) => void;

/** A fixed-window counter in this process: what limits callers while Redis cannot. */
class MemoryWindows {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  incr(key: string, timeWindow: number): { current: number; ttl: number } {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (this.windows.size > 50_000) this.prune(now);
      w = { count: 0, resetAt: now + timeWindow };
      this.windows.set(key, w);
    }
    w.count++;
    return { current: w.count, ttl: w.resetAt - now };
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}

const RATE_LIMIT_LUA = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {current, redis.call('PTTL', KEYS[1])}`;

/**
 * A @fastify/rate-limit store that counts in Redis (shared by every gateway process) and falls back to
 * this process's own counters when Redis fails: never an open door, never a 500.
 */
function fallbackStore(redis: Redis, memory: MemoryWindows, prefix = 'sgw:rl:') {
  return class FallbackStore {
    incr(key: string, cb: IncrCallback, timeWindow: number): void {
      if (redis.status !== 'ready') {
        cb(null, memory.incr(prefix + key, timeWindow));
        return;
      }
      redis
        .eval(RATE_LIMIT_LUA, 1, prefix + key, String(timeWindow))
        .then((res) => {
          const [current, ttl] = res as [number, number];
          cb(null, { current, ttl: ttl > 0 ? ttl : timeWindow });
        })
        .catch(() => cb(null, memory.incr(prefix + key, timeWindow)));
    }

    child(): FallbackStore {
      return new FallbackStore();
    }
  };
}

/**
 * Returns the check the identity wall runs once the practitioner is known: one window per practitioner
 * and one per agency, both per minute.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  redis: Redis,
  limits: RateLimits,
  gatewayId: string,
): Promise<(request: FastifyRequest) => Promise<void>> {
  // Keyed by gateway id: gateways of one deployment share counters, other deployments on the same Redis do not.
  const store = fallbackStore(redis, new MemoryWindows(), `sgw:rl:${gatewayId}:`);
  await app.register(rateLimit, { global: false, store });
  const minute = 60_000;
  const perPractitioner = app.createRateLimit({
    keyGenerator: (req) => `p:${req.practitioner.agency}:${req.practitioner.sub}`,
    max: limits.perPractitioner,
    timeWindow: minute,
  });
  const perAgency = app.createRateLimit({
    keyGenerator: (req) => `a:${req.practitioner.agency}`,
    max: limits.perAgency,
    timeWindow: minute,
  });
  return async (request) => {
    for (const limiter of [perPractitioner, perAgency]) {
      const result = await limiter(request);
      if (!result.isAllowed && result.isExceeded) {
        throw new AppError('rate_limited', 'Rate limit exceeded; retry later.', {
          retryAfter: Math.max(1, result.ttlInSeconds ?? 60),
        });
      }
    }
  };
}
