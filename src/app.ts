import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Config } from './config/index.js';
import { consentRoutes } from './consent/index.js';
import { committedTexts, concernRoutes, inboxRoutes, requestRoutes } from './exchange/index.js';
import { healthRoutes, type OutboxState } from './http/health.js';
import { loggerOptions } from './http/logging.js';
import { registerHttpMetrics } from './http/metrics.js';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  genRequestId,
  registerProblemHandling,
} from './http/problem.js';
import { registerRateLimits } from './http/rate-limit.js';
import { registerIdentityWall } from './identity/index.js';
import { type Ledger, ledgerRoutes } from './ledger/index.js';
import { type PolicySource, policyRoutes } from './policy/index.js';
import type { RegistryView } from './registry/index.js';
import { registryRoutes } from './registry/routes.js';
import type { Db } from './store/index.js';

export const BODY_LIMIT = 256 * 1024;

export interface TlsMaterial {
  key: string;
  cert: string;
  ca: string;
}

export interface AppDeps {
  config: Config;
  db: Db;
  redis: Redis;
  registry: RegistryView;
  policies: PolicySource;
  ledger: Ledger;
  /** The process's logger, shared with the services started before the app; made from config otherwise. */
  logger?: FastifyBaseLogger;
  /** Requests by route and status and their latency are counted here when metrics are on. */
  metrics?: Registry;
  /** The outbox backlog for readiness (notifications). */
  outbox?: () => Promise<OutboxState>;
  /** Without it the app serves plain HTTP, which only app.inject() tests use: /v1 then always says 401. */
  tls?: TlsMaterial;
  /** The clock concerns keep their deadlines by; tests set it to the day they check. */
  now?: () => Date;
}

/**
 * Builds the gateway with its plugins in pipeline order (contract and ARCHITECTURE.md):
 * problem details and request ids → identity wall (mTLS, JWT, roles) → rate limits → routes.
 * It does not listen.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: loggerOptions(config.logLevel) }),
    genReqId: genRequestId,
    requestIdHeader: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    bodyLimit: BODY_LIMIT,
    ajv: {
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true },
    },
    ...(deps.tls
      ? {
          https: {
            key: deps.tls.key,
            cert: deps.tls.cert,
            ca: deps.tls.ca,
            requestCert: true,
            // The wall checks the certificate per request (revocation, suspension); /health/* needs none.
            rejectUnauthorized: false,
            minVersion: 'TLSv1.2' as const,
          },
        }
      : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerProblemHandling(app);
  if (deps.metrics) registerHttpMetrics(app, deps.metrics);
  // JSON only: anything else is 415.
  app.removeContentTypeParser('text/plain');

  const applyRateLimits = await registerRateLimits(app, deps.redis, config.rateLimits, config.gatewayId);
  await registerIdentityWall(app, {
    registry: deps.registry,
    gatewayId: config.gatewayId,
    afterAuthentication: applyRateLimits,
  });

  const { ledger, policies, registry } = deps;
  await app.register(healthRoutes, {
    db: deps.db,
    redis: deps.redis,
    ledger: async () => (await ledger.health()).ok,
    ...(deps.outbox ? { outbox: deps.outbox } : {}),
  });
  await app.register(registryRoutes, { registry });
  await app.register(policyRoutes, { policies, agencyKind: (id) => registry.activeAgency(id)?.kind });
  await app.register(consentRoutes, { db: deps.db, ledger, policies, registry });
  await app.register(requestRoutes, {
    db: deps.db,
    ledger,
    policies,
    registry,
    defaultRespondWorkingDays: config.defaultRespondWorkingDays,
  });
  await app.register(concernRoutes, {
    db: deps.db,
    ledger,
    policies,
    registry,
    ...(deps.now ? { now: deps.now } : {}),
  });
  await app.register(inboxRoutes, { db: deps.db });
  await app.register(ledgerRoutes, {
    prefix: '/v1',
    ledger,
    policyVersion: () => policies.current().version,
    texts: committedTexts,
  });
  return app;
}
