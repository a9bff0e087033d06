import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Db, openStore } from '../../src/store/index.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database on the real local PostgreSQL, dropped (with its connections) by drop(). */
export async function createTestDatabase(prefix = 'sgw_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A migrated store on a fresh PostgreSQL database or a PGlite folder, closed and removed with the test. */
export async function openTestStore(t: Teardown, backend: 'postgres' | 'pglite' = 'postgres'): Promise<Db> {
  if (backend === 'postgres') {
    const database = await createTestDatabase();
    const db = await openStore({ databaseUrl: database.url, dataDir: '' });
    t.teardown(async () => {
      await db.close();
      await database.drop();
    });
    return db;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-store-'));
  const db = await openStore({ databaseUrl: undefined, dataDir: dir });
  t.teardown(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}
