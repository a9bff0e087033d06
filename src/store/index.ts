import type { Config } from '../config/index.js';
import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export type { Db, Queryable, Row } from './db.js';
export { StoreUnavailableError } from './db.js';
export { migrate } from './migrate.js';
export { EmbeddedDatabaseBusyError } from './pglite.js';
export { noteRedisFailure, openRedis, REDIS_COMMAND_TIMEOUT_MS, redisSettled } from './redis.js';

/** PostgreSQL when DATABASE_URL is set, the embedded PGlite otherwise; migrated before it is returned. */
export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Db> {
  const db = config.databaseUrl ? openPostgres(config.databaseUrl) : await openPglite(config.dataDir);
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}
