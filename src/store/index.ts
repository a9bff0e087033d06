import type { Config } from '../config/index.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export type { Db, Queryable, Row } from './db.js';
export { StoreUnavailableError } from './db.js';
export { migrate } from './migrate.js';
export { EmbeddedDatabaseBusyError } from './pglite.js';
export { noteRedisFailure, openRedis, redisSettled } from './redis.js';

/**
 * PostgreSQL when DATABASE_URL is set, the embedded PGlite otherwise; migrated before it is returned.
 * On PostgreSQL the migrations run first on a connection of their own, without `queryTimeoutMs` (an
 * upgrade may rebuild an index for longer than a request should wait), and the store returned bounds each
 * query by it (the gateway's, so that a silent server cannot hold requests for ever).
 */
export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  opts: { queryTimeoutMs?: number } = {},
): Promise<Db> {
  if (config.databaseUrl) {
    const migrating = openPostgres(config.databaseUrl, { max: 1 });
    try {
      await migrate(migrating);
    } finally {
      await migrating.close().catch(() => {});
    }
    return openPostgres(config.databaseUrl, opts);
  }
  const db = await openPglite(config.dataDir);
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}
