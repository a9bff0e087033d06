import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Db, type Queryable, StoreUnavailableError, TYPE_PARSERS } from './db.js';

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, in a folder under SGW_DATA_DIR. Only one
 * process may open it, which is why the registry lives in files rather than in the database.
 */
export async function openPglite(dataDir: string): Promise<Db> {
  const dir = path.join(dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  let db: PGlite;
  try {
    db = await PGlite.create(dir, { parsers: TYPE_PARSERS });
  } catch (err) {
    throw new StoreUnavailableError(err);
  }
  let closed = false;
  const guard = () => {
    if (closed) throw new StoreUnavailableError(new Error('database closed'));
  };
  return {
    backend: 'pglite',
    async query(sql, params) {
      guard();
      const res = await db.query(sql, params as unknown[] | undefined);
      return res.rows as never;
    },
    async exec(sql) {
      guard();
      await db.exec(sql);
    },
    async transaction(fn) {
      guard();
      return db.transaction(async (t) => {
        const tx: Queryable = {
          async query(sql, params) {
            const res = await t.query(sql, params as unknown[] | undefined);
            return res.rows as never;
          },
          async exec(sql) {
            await t.exec(sql);
          },
        };
        return fn(tx);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
