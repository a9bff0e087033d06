import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { dropWebhookQueue } from '../../src/notify/index.js';
import { addAgency, certPaths, initCa } from '../../src/registry/index.js';
import type { Cleanup } from './cleanup.js';
import type { Tls } from './client.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** The agencies the journeys need: a social care, a GP practice, a police force. */
export const AGENCIES = {
  csc: { id: 'bench-csc', name: 'Bench Children’s Services', kind: 'children_social_care' },
  gp: { id: 'bench-gp', name: 'Bench Surgery', kind: 'health' },
  police: { id: 'bench-police', name: 'Bench Police', kind: 'police' },
} as const;

export interface Workspace {
  /** Unique per run: the gateway id (token audience, ledger checkpoints) and its queue's Redis prefix. */
  gatewayId: string;
  certsDir: string;
  dataDir: string;
  databaseUrl: string;
  databaseName: string;
  tls: Tls;
  /** Server certificate and key, for the bare Fastify ceiling (the same TLS as the gateway's). */
  server: { cert: string; key: string };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The prefixes of one gateway id's Redis keys: its BullMQ queue and its rate-limit counters. */
const prefixesOf = (gatewayId: string) => [`sgw:${gatewayId}:`, `sgw:rl:${gatewayId}:`];

/** Visits every key under the prefixes in batches (SCAN, never KEYS, so a shared Redis is not blocked). */
async function scanKeys(gatewayId: string, visit: (redis: Redis, keys: string[]) => Promise<void>) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    for (const prefix of prefixesOf(gatewayId)) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await visit(redis, keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * A throwaway world for one run: a temporary folder with a new CA and the agencies, a scratch database
 * on the local PostgreSQL, and a gateway id of its own. Each part is registered for cleanup as soon as
 * it exists, so that an interrupted set-up leaves nothing either.
 */
export async function createWorkspace(cleanup: Cleanup): Promise<Workspace> {
  const suffix = randomBytes(4).toString('hex');
  const gatewayId = `bench-${suffix}`;
  const root = mkdtempSync(path.join(os.tmpdir(), 'sgw-bench-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  cleanup.add({ name: `removing ${root}`, run: remove, atExit: remove });
  // Redis keys go after the gateways have stopped (cleanup runs last-added first), so none comes back.
  cleanup.add({
    name: 'removing the Redis keys of the bench queue',
    run: async () => {
      await dropWebhookQueue(REDIS_URL, gatewayId);
      await scanKeys(gatewayId, async (redis, keys) => {
        await redis.del(...keys);
      });
    },
  });

  const certsDir = path.join(root, 'certs');
  const dataDir = path.join(root, 'data');
  mkdirSync(certsDir, { mode: 0o700 });
  mkdirSync(dataDir, { mode: 0o700 });
  initCa(certsDir, { hostname: 'localhost' });
  for (const a of Object.values(AGENCIES)) addAgency(certsDir, { id: a.id, name: a.name, kind: a.kind });

  const databaseName = `sgw_bench_${suffix}`;
  await admin(`CREATE DATABASE ${databaseName}`);
  cleanup.add({
    name: `dropping the database ${databaseName}`,
    run: () => admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`),
  });

  const p = certPaths(certsDir);
  const clients = new Map<string, { cert: string; key: string }>();
  for (const a of Object.values(AGENCIES)) {
    clients.set(a.id, {
      cert: readFileSync(p.clientCert(a.id), 'utf8'),
      key: readFileSync(p.clientKey(a.id), 'utf8'),
    });
  }
  return {
    gatewayId,
    certsDir,
    dataDir,
    databaseName,
    databaseUrl: `postgres://postgres@127.0.0.1:5432/${databaseName}`,
    tls: { ca: readFileSync(p.caCert, 'utf8'), clients },
    server: { cert: readFileSync(p.serverCert, 'utf8'), key: readFileSync(p.serverKey, 'utf8') },
  };
}

/** How many keys of this run's gateway id are still in Redis: the bench checks its own tidiness. */
export async function leftoverKeys(gatewayId: string): Promise<number> {
  let count = 0;
  await scanKeys(gatewayId, async (_redis, keys) => {
    count += keys.length;
  });
  return count;
}
