import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { noteRedisFailure } from '../store/index.js';
import { AppError } from './errors.js';

export interface RateLimits {
  /** Requests per minute for one practitioner (agency + sub). */
  perPractitioner: number;
  /** Requests per minute for a whole agency. */
  perAgency: number;
  /** Failed authentications per minute from one client certificate, or one address without a good one. */
  authFailures: number;
}

/** The checks the identity wall runs: what it passes (a practitioner) and what it refuses (a failure). */
export interface RateLimitChecks {
  /** Once the practitioner is known: one window per practitioner and one per agency. */
  practitioner(request: FastifyRequest): Promise<void>;
  /**
   * Counts a failed authentication against `key` (a certificate fingerprint or a remote address) and
   * throws 429 once there were more than the limit in the window; the caller throws its 401 otherwise.
   */
  authFailure(request: FastifyRequest, key: string): Promise<void>;
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
        .catch((err: unknown) => {
          noteRedisFailure(redis, err);
          cb(null, memory.incr(prefix + key, timeWindow));
        });
    }

    child(): FallbackStore {
      return new FallbackStore();
    }
  };
}

const MINUTE = 60_000;

/**
 * Registers the rate-limit plugin and returns the checks the identity wall runs. Every window is per
 * minute, counted in Redis (shared by the gateways of one deployment) or in this process while Redis
 * is away.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  redis: Redis,
  limits: RateLimits,
  gatewayId: string,
): Promise<RateLimitChecks> {
  // Keyed by gateway id: gateways of one deployment share counters, other deployments on the same Redis do not.
  const Store = fallbackStore(redis, new MemoryWindows(), `sgw:rl:${gatewayId}:`);
  await app.register(rateLimit, { global: false, store: Store });
  const perPractitioner = app.createRateLimit({
    keyGenerator: (req) => `p:${req.practitioner.agency}:${req.practitioner.sub}`,
    max: limits.perPractitioner,
    timeWindow: MINUTE,
  });
  const perAgency = app.createRateLimit({
    keyGenerator: (req) => `a:${req.practitioner.agency}`,
    max: limits.perAgency,
    timeWindow: MINUTE,
  });
  const failures = new Store();
  const countFailure = (key: string) =>
    new Promise<{ current: number; ttl: number }>((resolve) =>
      failures.incr(`f:${key}`, (_err, res) => resolve(res ?? { current: 1, ttl: MINUTE }), MINUTE),
    );
  return {
    async practitioner(request) {
      for (const limiter of [perPractitioner, perAgency]) {
        const result = await limiter(request);
        if (!result.isAllowed && result.isExceeded) {
          throw new AppError('rate_limited', 'Rate limit exceeded; retry later.', {
            retryAfter: Math.max(1, result.ttlInSeconds ?? 60),
          });
        }
      }
    },
    async authFailure(request, key) {
      const { current, ttl } = await countFailure(key);
      if (current <= limits.authFailures) return;
      // Once per window, so that a flood of failures is one log line, not one per failure.
      if (current === limits.authFailures + 1) {
        request.log.warn({ over: key.split(':')[0] }, 'authentication failures over the limit');
      }
      throw new AppError('rate_limited', 'Too many failed authentications; retry later.', {
        retryAfter: Math.max(1, Math.ceil(ttl / 1000)),
      });
    },
  };
}
