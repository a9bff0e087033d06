import { existsSync, readFileSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { type DestinationStream, pino } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config/index.js';
import { startOverdueSweep } from './exchange/index.js';
import { loggerOptions } from './http/logging.js';
import { createMetricsRegistry, type MetricsServer, startMetricsServer } from './http/metrics.js';
import { secureContextOptions, type TlsMaterial } from './http/tls.js';
import { createLedger, type Ledger, registerLedgerMetrics } from './ledger/index.js';
import {
  type Notifications,
  outboxBacklog,
  readWebhookCa,
  registerNotifyMetrics,
  startNotifications,
} from './notify/index.js';
import { PolicyStore } from './policy/index.js';
import { certPaths, initCa, RegistryView } from './registry/index.js';
import { type Db, openRedis, openStore, redisSettled } from './store/index.js';

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  /** For operations and tests: flush the ledger, read the record. */
  ledger: Ledger;
  db: Db;
  notifications: Notifications;
  /** The metrics listener's base URL, when METRICS_PORT is set. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

function readTls(certsDir: string): TlsMaterial {
  const p = certPaths(certsDir);
  return {
    key: readFileSync(p.serverKey, 'utf8'),
    cert: readFileSync(p.serverCert, 'utf8'),
    ca: readFileSync(p.caCert, 'utf8'),
  };
}

export interface StartOptions {
  /** Create the CA first when there is none. */
  init?: boolean;
  /** The clock deadlines are kept by (concerns and their overdue sweep); tests set it. */
  now?: () => Date;
  /** Tests: fault injection and a faster poll for the outbox relay. */
  relay?: { intervalMs?: number; afterEnqueue?: () => Promise<void> };
  /** Where log lines go instead of standard output: a test reads them to prove what is never logged. */
  logDestination?: DestinationStream;
}

/** Starts one gateway process: store, registry, app, listen; everything it opened is closed by close(). */
export async function startGateway(config: Config, opts: StartOptions = {}): Promise<RunningGateway> {
  const p = certPaths(config.certsDir);
  if (!existsSync(p.caCert)) {
    if (!opts.init) throw new Error(`no CA in ${config.certsDir}: run "sgw ca init" first`);
    initCa(config.certsDir);
  }
  const webhookCa = readWebhookCa(config.webhooks.caFile);
  const logger = opts.logDestination
    ? pino(loggerOptions(config.logLevel), opts.logDestination)
    : pino(loggerOptions(config.logLevel));
  // A refused bundle stops start-up (PolicyBundleError lists every error with its file and line).
  const policies = await PolicyStore.open(config.policiesDir, { logger });
  const registry = new RegistryView(config.certsDir);
  let db: Db;
  try {
    db = await openStore(config, { queryTimeoutMs: config.databaseQueryTimeoutMs });
  } catch (err) {
    policies.close();
    throw err;
  }
  const redis = openRedis(config.redisUrl);
  const ledger = createLedger({ db, certsDir: config.certsDir, gatewayId: config.gatewayId, logger });
  const metrics = config.metrics ? createMetricsRegistry() : undefined;
  let notifications: Notifications | undefined;
  const notifyMetrics = metrics
    ? registerNotifyMetrics(metrics, {
        db,
        queueCounts: () => notifications?.queueCounts() ?? Promise.reject(new Error('not started')),
      })
    : undefined;
  if (metrics) registerLedgerMetrics(metrics, db);
  let app: FastifyInstance;
  try {
    // Redis is optional (rate limits fall back to this process), but when it is there, count in it from
    // the first request on.
    await redisSettled(redis);
    await ledger.start();
    app = await buildApp({
      config,
      db,
      redis,
      registry,
      policies,
      ledger,
      logger,
      tls: readTls(config.certsDir),
      ...(metrics ? { metrics } : {}),
      outbox: () => outboxBacklog(db),
      ...(opts.now ? { now: opts.now } : {}),
    });
  } catch (err) {
    await ledger.stop();
    policies.close();
    redis.disconnect();
    await db.close();
    throw err;
  }
  registry.onChange(() => {
    // A re-issued server certificate (sgw ca init --force) is served to new connections without a restart.
    try {
      const tls = readTls(config.certsDir);
      (app.server as unknown as import('node:tls').Server).setSecureContext(secureContextOptions(tls));
    } catch (err) {
      app.log.error({ err }, 'could not reload the server certificate');
    }
  });
  registry.start();
  const overdue = startOverdueSweep({ db, ledger, logger, ...(opts.now ? { now: opts.now } : {}) });
  const started = startNotifications({
    config,
    db,
    agency: (id) => registry.agency(id),
    redisUp: () => redis.status === 'ready',
    logger,
    extraCa: webhookCa,
    ...(notifyMetrics ? { metrics: notifyMetrics } : {}),
    ...(opts.relay ? { relay: opts.relay } : {}),
  });
  notifications = started;
  let metricsServer: MetricsServer | undefined;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      registry.stop();
      policies.close();
      await metricsServer?.close();
      await app.close();
      await overdue.stop();
      await started.close();
      await ledger.stop();
      redis.disconnect();
      await db.close();
    })();
    return closing;
  };
  try {
    await app.listen({ port: config.port, host: config.host });
    if (metrics && config.metrics) {
      metricsServer = await startMetricsServer(metrics, config.metrics, (err) =>
        app.log.error({ err }, 'metrics scrape failed'),
      );
    }
  } catch (err) {
    await close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    url: `https://${host}:${port}`,
    ledger,
    db,
    notifications: started,
    metricsUrl: metricsServer?.url,
    close,
  };
}

/** Drains in-flight requests and closes pools on SIGTERM / SIGINT. */
export function closeOnSignals(gateway: RunningGateway): void {
  closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err) gateway.app.log.error({ err }, 'closing after an error');
    else gateway.app.log.info({ signal }, 'shutting down');
    await gateway.close();
  });
}
