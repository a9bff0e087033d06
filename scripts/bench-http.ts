/**
 * The whole pipeline over real HTTPS: a gateway on the local PostgreSQL and Redis, keep-alive clients
 * with an agency's certificate and token. Baseline: GET /health/live on the same connections (TLS,
 * routing, problem handling; no identity, no database). Measured: GET /v1/agencies (the identity wall:
 * certificate check, JWT verification with its cache, rate limits) and POST /v1/requests (plus policy,
 * consent look-up and one ledgered transaction), each as a ratio of the baseline from the same run.
 *
 *   node --import tsx scripts/bench-http.ts        (BENCH_PG_ADMIN_URL, BENCH_SECONDS, BENCH_CONCURRENCY)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config/index.js';
import { startGateway } from '../src/main.js';
import { addAgency, certPaths, initCa, mintToken } from '../src/registry/index.js';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

const certsDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-bench-certs-'));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-bench-data-'));
const dbName = `sgw_bench_http_${process.pid}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);

initCa(certsDir, { hostname: 'localhost' });
addAgency(certsDir, { id: 'bench-csc', name: 'Bench CSC', kind: 'children_social_care' });
addAgency(certsDir, { id: 'bench-police', name: 'Bench Police', kind: 'police' });
const config = loadConfig({
  PORT: '0',
  SGW_CERTS_DIR: certsDir,
  SGW_DATA_DIR: dataDir,
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'silent',
  // The limits protect a county's gateway from one runaway client; a benchmark is that client.
  SGW_RATE_LIMIT_PER_PRACTITIONER: '100000000',
  SGW_RATE_LIMIT_PER_AGENCY: '100000000',
});
const gateway = await startGateway(config);

const p = certPaths(certsDir);
const agent = new https.Agent({
  keepAlive: true,
  maxSockets: CONCURRENCY,
  ca: readFileSync(p.caCert),
  cert: readFileSync(p.clientCert('bench-csc')),
  key: readFileSync(p.clientKey('bench-csc')),
});
const token = mintToken(certsDir, {
  agency: 'bench-csc',
  sub: 'sw-bench',
  role: 'social_worker',
  name: 'Bench',
  audience: config.gatewayId,
  ttlSeconds: 3600,
});

const requestBody = JSON.stringify({
  to: 'bench-police',
  subject: { type: 'child', nhsNumber: '9434765919' },
  purpose: 's47_enquiry',
  categories: ['incidents', 'convictions', 'intelligence'],
  justification: 'Benchmark',
});

function call(method: string, urlPath: string, body?: string, expect = 200): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${gateway.url}${urlPath}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === expect ? resolve() : reject(new Error(`${urlPath}: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(label: string, once: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 200; i++) await once();
  let done = 0;
  const until = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < until) {
      await once();
      done++;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const rate = done / (Number(process.hrtime.bigint() - started) / 1e9);
  console.log(`${label.padEnd(44)} ${rate.toFixed(0).padStart(7)} req/s`);
  return rate;
}

try {
  console.log(`HTTPS on the local PostgreSQL, ${CONCURRENCY} keep-alive clients, ${SECONDS} s per point`);
  const base = await measure('GET /health/live (baseline)', () => call('GET', '/health/live'));
  const wall = await measure('GET /v1/agencies (identity wall)', () => call('GET', '/v1/agencies'));
  const create = await measure('POST /v1/requests (policy, consent, ledger)', () =>
    call('POST', '/v1/requests', requestBody, 201),
  );
  console.log(`ratio identity wall / baseline:   ${(wall / base).toFixed(2)}`);
  console.log(`ratio ledgered request / baseline: ${(create / base).toFixed(2)}`);
  await gateway.ledger.flush();
} finally {
  agent.destroy();
  await gateway.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(certsDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
