import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Db } from '../store/index.js';

export type CheckState = 'up' | 'down';
export type ReadinessCheck = () => Promise<boolean>;

const CHECK_TIMEOUT_MS = 1500;

async function probe(check: ReadinessCheck): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([check().catch(() => false), timeout])) ? 'up' : 'down';
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthDeps {
  db: Db;
  redis: Redis;
  /** Added by the ledger: head readable and the latest checkpoint's signature valid. */
  ledger?: ReadinessCheck;
}

const CheckSchema = Type.Union([Type.Literal('up'), Type.Literal('down')]);

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
        response: {
          '2xx': Type.Object({
            status: Type.String(),
            checks: Type.Record(Type.String(), CheckSchema),
          }),
          503: Type.Object({
            status: Type.String(),
            checks: Type.Record(Type.String(), CheckSchema),
          }),
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, CheckState> = {
        database: await probe(async () => (await deps.db.query('SELECT 1 AS ok')).length === 1),
        redis: await probe(async () => deps.redis.status === 'ready' && (await deps.redis.ping()) === 'PONG'),
      };
      if (deps.ledger) checks.ledger = await probe(deps.ledger);
      const ok = Object.values(checks).every((c) => c === 'up');
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
    },
  );
}
