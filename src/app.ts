import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Config } from './config/index.js';
import { consentRoutes } from './consent/index.js';
import { committedTexts, concernRoutes, flagRoutes, inboxRoutes, requestRoutes } from './exchange/index.js';
import { registerBodyGuards } from './http/body.js';
import { healthRoutes, type OutboxState } from './http/health.js';
import { loggerOptions } from './http/logging.js';
import { registerHttpMetrics } from './http/metrics.js';
import { registerOpenApi } from './http/openapi.js';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  genRequestId,
  registerProblemHandling,
} from './http/problem.js';
import { registerRateLimits } from './http/rate-limit.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { secureContextOptions, type TlsMaterial } from './http/tls.js';
import { registerValidation } from './http/validation.js';
import { registerIdentityWall } from './identity/index.js';
import { type Ledger, ledgerRoutes } from './ledger/index.js';
import { type PolicySource, policyRoutes } from './policy/index.js';
import type { RegistryView } from './registry/index.js';
import { registryRoutes } from './registry/routes.js';
import type { Db } from './store/index.js';

export const BODY_LIMIT = 256 * 1024;
const CONNECTIONS_CHECK_MS = 1000;

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
  /** The clock concerns keep their deadlines by and flags their validity; tests set it to the day they check. */
  now?: () => Date;
}

/**
 * Builds the gateway with its plugins in pipeline order (contract and ARCHITECTURE.md): security
 * headers → problem details and request ids → identity wall (mTLS, JWT, roles) → rate limits → routes.
 * It does not listen.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const limits = config.http;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: loggerOptions(config.logLevel) }),
    genReqId: genRequestId,
    requestIdHeader: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    bodyLimit: BODY_LIMIT,
    // Node measures these on the connection; Fastify's defaults leave the request unbounded.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    // A HEAD of a /v1 read would run its handler (and ledger a view) to show nothing: no HEAD routes, but
    // where a route asks for one (/health/*, for load balancers).
    exposeHeadRoutes: false,
    ...(deps.tls
      ? {
          https: {
            ...secureContextOptions(deps.tls),
            requestCert: true,
            // The wall checks the certificate per request (revocation, suspension); /health/* needs none.
            rejectUnauthorized: false,
            handshakeTimeout: limits.handshakeTimeoutMs,
            // Refused as problem details by registerProblemHandling instead.
            requireHostHeader: false,
            headersTimeout: limits.headersTimeoutMs,
            requestTimeout: limits.requestTimeoutMs,
            // How often Node looks for requests past their timeouts (its default is every 30 s).
            connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
          },
        }
      : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.server.maxConnections = limits.maxConnections;
  // Node answers an Expect other than 100-continue with a bare 417 of its own; RFC 9110 section 10.1.1
  // lets a server ignore it instead, so the request gets its usual answer (problem details on error).
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res));
  registerSecurityHeaders(app);
  registerProblemHandling(app);
  if (deps.metrics) registerHttpMetrics(app, deps.metrics);
  registerValidation(app);
  registerBodyGuards(app, {
    minBytesPerSecond: limits.bodyMinBytesPerSecond,
    graceMs: limits.bodyRateGraceMs,
  });
  // Before every route, so that each one is in the document.
  await registerOpenApi(app);
  // JSON only: anything else is 415.
  app.removeContentTypeParser('text/plain');

  const rateLimits = await registerRateLimits(app, deps.redis, config.rateLimits, config.gatewayId);
  await registerIdentityWall(app, {
    registry: deps.registry,
    gatewayId: config.gatewayId,
    afterAuthentication: (request) => rateLimits.practitioner(request),
    onAuthenticationFailure: (request, key) => rateLimits.authFailure(request, key),
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
  await app.register(flagRoutes, {
    db: deps.db,
    ledger,
    policies,
    agencies: registry,
    ...(deps.now ? { now: deps.now } : {}),
  });
  await app.register(inboxRoutes, { db: deps.db });
  await app.register(ledgerRoutes, {
    prefix: '/v1',
    ledger,
    policyVersion: () => policies.current().version,
    texts: committedTexts,
    readWaitMs: config.auditReadWaitMs,
  });
  return app;
}
