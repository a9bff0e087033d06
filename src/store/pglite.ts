import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Db, type Queryable, StoreUnavailableError, TYPE_PARSERS } from './db.js';

/** The embedded database is open in another live process. */
export class EmbeddedDatabaseBusyError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite does not stop a second process from opening the same folder: that process would read a stale
 * copy and could write over the first one's files. A pid file taken with O_EXCL does; one left by a
 * process that died is taken over.
 */
function lockDataDir(dir: string): () => void {
  const file = path.join(dir, 'sgw.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new EmbeddedDatabaseBusyError(
          `the embedded database in ${dir} is open in process ${holder} (a running gateway?): only one ` +
            'process may use it; stop that process, or use DATABASE_URL, or ask the running gateway ' +
            '(e.g. GET /v1/audit/verify)',
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new EmbeddedDatabaseBusyError(`could not lock the embedded database in ${dir}`);
}

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, in a folder under SGW_DATA_DIR. Only one
 * process may open it (enforced by a lock file), which is why the registry lives in files rather than
 * in the database.
 */
export async function openPglite(dataDir: string): Promise<Db> {
  const dir = path.join(dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dir, { parsers: TYPE_PARSERS });
  } catch (err) {
    unlock();
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
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}
