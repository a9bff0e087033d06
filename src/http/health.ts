import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type Db, noteRedisFailure } from '../store/index.js';

export type CheckState = 'up' | 'down';
export type ReadinessCheck = () => Promise<boolean>;

const CHECK_TIMEOUT_MS = 1500;

/** The work's answer, or `fallback` when it fails or takes longer than CHECK_TIMEOUT_MS. */
async function withinDeadline<T>(work: () => Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work().catch(() => fallback), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probe(check: ReadinessCheck): Promise<CheckState> {
  return (await withinDeadline(check, false)) ? 'up' : 'down';
}

/** Events committed but not yet handed to the queue (notify's relay). */
export interface OutboxState {
  backlog: number;
  oldestAgeSeconds: number | null;
}

export interface HealthDeps {
  db: Db;
  redis: Redis;
  /** Added by the ledger: head readable and the latest checkpoint's signature valid. */
  ledger?: ReadinessCheck;
  /** Added by notifications: the outbox backlog, reported beside the checks. */
  outbox?: () => Promise<OutboxState>;
}

const CheckSchema = Type.Union([Type.Literal('up'), Type.Literal('down')]);

/** What may be down while the gateway still serves (contract section 4): events wait in the outbox. */
const OPTIONAL_CHECKS = new Set(['redis']);

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), CheckSchema),
  outbox: Type.Optional(
    Type.Object({
      backlog: Type.Integer({ minimum: 0 }),
      oldestAgeSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    }),
  ),
});

/** /health/* needs no client certificate: load balancers and operators probe it. */
export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get(
    '/health/live',
    { exposeHeadRoute: true, schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      exposeHeadRoute: true,
      schema: {
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, CheckState> = {
        database: await probe(async () => (await deps.db.query('SELECT 1 AS ok')).length === 1),
        redis: await probe(
          async () =>
            deps.redis.status === 'ready' &&
            (await deps.redis.ping().catch((err: unknown) => noteRedisFailure(deps.redis, err))) === 'PONG',
        ),
      };
      if (deps.ledger) checks.ledger = await probe(deps.ledger);
      const down = Object.keys(checks).filter((name) => checks[name] === 'down');
      const status =
        down.length === 0
          ? 'ok'
          : down.every((name) => OPTIONAL_CHECKS.has(name))
            ? 'degraded'
            : 'unavailable';
      const outbox =
        checks.database === 'up' && deps.outbox
          ? await withinDeadline<OutboxState | undefined>(deps.outbox, undefined)
          : undefined;
      return reply
        .code(status === 'unavailable' ? 503 : 200)
        .send({ status, checks, ...(outbox ? { outbox } : {}) });
    },
  );
}
