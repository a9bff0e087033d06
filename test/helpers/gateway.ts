import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../src/config/index.js';
import { type RunningGateway, type StartOptions, startGateway } from '../../src/main.js';
import { dropWebhookQueue } from '../../src/notify/index.js';
import { addAgency, certPaths, initCa, mintToken } from '../../src/registry/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { type ClientCredentials, type HttpResult, httpsRequest, type RequestOptions } from './https.js';

/** The agencies every test gateway starts with: one of each kind, and a second CSC for isolation tests. */
export const AGENCIES = {
  csc: { id: 'csc-north', name: 'North Children’s Services', kind: 'children_social_care' },
  csc2: { id: 'csc-south', name: 'South Children’s Services', kind: 'children_social_care' },
  gp: { id: 'gp-riverside', name: 'Riverside Surgery', kind: 'health' },
  police: { id: 'police-county', name: 'County Police', kind: 'police' },
  probation: { id: 'probation-region', name: 'Regional Probation', kind: 'probation' },
} as const;

export type AgencyKey = keyof typeof AGENCIES;

export interface TestGatewayOptions {
  backend?: 'postgres' | 'pglite';
  /** Extra environment (e.g. SGW_POLICIES_DIR, rate limits). */
  env?: Record<string, string>;
  /** Reuse an initialised certs directory instead of making a new CA. */
  certsDir?: string;
  /** The gateway's clock for deadlines (concerns, overdue sweeps): a test can receive on a day it picks. */
  now?: () => Date;
  /** Passed to startGateway (e.g. the outbox relay's fault injection). */
  start?: StartOptions;
}

export interface TestGateway {
  url: string;
  config: Config;
  certsDir: string;
  gateway: RunningGateway;
  database: TestDatabase | undefined;
  credentials(agency: string): ClientCredentials;
  token(agency: string, role: string, sub?: string): string;
  /** An HTTPS call as a practitioner of `agency` with `role`, through the real identity wall. */
  call(agency: string, role: string, method: string, urlPath: string, body?: unknown): Promise<HttpResult>;
  request(urlPath: string, creds: ClientCredentials, opts?: RequestOptions): Promise<HttpResult>;
  keepAliveAgent(agency: string): https.Agent;
  close(): Promise<void>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Creates a CA and the standard agencies in a temporary directory (the costly part, done once per file). */
export function makeCerts(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-certs-'));
  initCa(dir, { hostname: 'localhost' });
  for (const a of Object.values(AGENCIES)) addAgency(dir, { id: a.id, name: a.name, kind: a.kind });
  return dir;
}

/**
 * Starts a real gateway: real TLS on an ephemeral port, real Redis, and a fresh database on the local
 * PostgreSQL (or PGlite in a temporary folder). Everything is torn down with the test.
 */
export async function startTestGateway(t: Teardown, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const ownCerts = !opts.certsDir;
  const certsDir = opts.certsDir ?? makeCerts();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-data-'));
  const database = opts.backend === 'pglite' ? undefined : await createTestDatabase();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SGW_CERTS_DIR: certsDir,
    SGW_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(opts.env ?? {}),
  });
  const gateway = await startGateway(config, { ...opts.start, ...(opts.now ? { now: opts.now } : {}) });
  const ca = readFileSync(certPaths(certsDir).caCert, 'utf8');
  const agents: https.Agent[] = [];

  const credentials = (agency: string): ClientCredentials => {
    const p = certPaths(certsDir);
    return {
      ca,
      cert: readFileSync(p.clientCert(agency), 'utf8'),
      key: readFileSync(p.clientKey(agency), 'utf8'),
    };
  };
  const token = (agency: string, role: string, sub = `${role}-1`) =>
    mintToken(certsDir, {
      agency,
      sub,
      role,
      name: `Test ${role}`,
      audience: config.gatewayId,
      ttlSeconds: 600,
    });

  const tg: TestGateway = {
    url: gateway.url,
    config,
    certsDir,
    gateway,
    database,
    credentials,
    token,
    call: (agency, role, method, urlPath, body) =>
      httpsRequest(`${gateway.url}${urlPath}`, credentials(agency), {
        method,
        headers: { authorization: `Bearer ${token(agency, role)}` },
        ...(body !== undefined ? { body } : {}),
      }),
    request: (urlPath, creds, reqOpts) => httpsRequest(`${gateway.url}${urlPath}`, creds, reqOpts),
    keepAliveAgent(agency) {
      const c = credentials(agency);
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: c.ca, cert: c.cert, key: c.key });
      agents.push(agent);
      return agent;
    },
    async close() {
      for (const a of agents) a.destroy();
      await gateway.close();
      // A gateway id of the test's own leaves no queue behind in the shared Redis (the default id is
      // shared by every test gateway, and so is its one queue).
      if (config.gatewayId !== 'sgw') await dropWebhookQueue(config.redisUrl, config.gatewayId);
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
      if (ownCerts) rmSync(certsDir, { recursive: true, force: true });
    },
  };
  t.teardown(() => tg.close());
  return tg;
}
