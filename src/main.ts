import { existsSync, readFileSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config/index.js';
import { startOverdueSweep } from './exchange/index.js';
import { loggerOptions } from './http/logging.js';
import { createLedger, type Ledger } from './ledger/index.js';
import { PolicyStore } from './policy/index.js';
import { certPaths, initCa, RegistryView } from './registry/index.js';
import { type Db, openRedis, openStore, redisSettled } from './store/index.js';

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  /** For operations and tests: flush the ledger, read the record. */
  ledger: Ledger;
  db: Db;
  close(): Promise<void>;
}

function readTls(certsDir: string) {
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
}

/** Starts one gateway process: store, registry, app, listen; everything it opened is closed by close(). */
export async function startGateway(config: Config, opts: StartOptions = {}): Promise<RunningGateway> {
  const p = certPaths(config.certsDir);
  if (!existsSync(p.caCert)) {
    if (!opts.init) throw new Error(`no CA in ${config.certsDir}: run "sgw ca init" first`);
    initCa(config.certsDir);
  }
  const logger = pino(loggerOptions(config.logLevel));
  // A refused bundle stops start-up (PolicyBundleError lists every error with its file and line).
  const policies = await PolicyStore.open(config.policiesDir, { logger });
  const registry = new RegistryView(config.certsDir);
  let db: Db;
  try {
    db = await openStore(config);
  } catch (err) {
    policies.close();
    throw err;
  }
  const redis = openRedis(config.redisUrl);
  const ledger = createLedger({ db, certsDir: config.certsDir, gatewayId: config.gatewayId, logger });
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
      (app.server as unknown as import('node:tls').Server).setSecureContext({ ...tls });
    } catch (err) {
      app.log.error({ err }, 'could not reload the server certificate');
    }
  });
  registry.start();
  const overdue = startOverdueSweep({ db, ledger, logger, ...(opts.now ? { now: opts.now } : {}) });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      registry.stop();
      policies.close();
      await app.close();
      await overdue.stop();
      await ledger.stop();
      redis.disconnect();
      await db.close();
    })();
    return closing;
  };
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { app, url: `https://${host}:${port}`, ledger, db, close };
}

/** Drains in-flight requests and closes pools on SIGTERM / SIGINT. */
export function closeOnSignals(gateway: RunningGateway): void {
  closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err) gateway.app.log.error({ err }, 'closing after an error');
    else gateway.app.log.info({ signal }, 'shutting down');
    await gateway.close();
  });
}
