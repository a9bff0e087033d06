import pg from 'pg';
import { type Db, type Queryable, type Row, StoreUnavailableError, TYPE_PARSERS } from './db.js';

const types = {
  getTypeParser(oid: number, format?: string) {
    const parser = TYPE_PARSERS[oid];
    if (parser && format !== 'binary') return parser;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Errors that mean "the server is gone", as opposed to an error in the SQL the caller sent. */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P02', '57P03'].includes(
      code,
    ) ||
    code.startsWith('08') ||
    /Connection terminated|connection timeout|Client has encountered a connection error|Query read timeout/i.test(
      (err as Error).message ?? '',
    )
  );
}

function wrap(err: unknown): unknown {
  return isConnectionError(err) ? new StoreUnavailableError(err) : err;
}

export interface PostgresOptions {
  max?: number;
  /**
   * A query unanswered after this fails as the server being unavailable (503), and the connection that
   * carried it is dropped (a transaction's ROLLBACK then times out too, or is answered once the server
   * is back). Unset: no limit (the command line's long exports and migrations).
   */
  queryTimeoutMs?: number;
}

export function openPostgres(connectionString: string, opts: PostgresOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5000,
    ...(opts.queryTimeoutMs !== undefined ? { query_timeout: opts.queryTimeoutMs } : {}),
    types,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});

  const run = async <T extends Row>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: readonly unknown[],
  ) => {
    try {
      const res = await client.query(sql, params as unknown[] | undefined);
      return res.rows as T[];
    } catch (err) {
      throw wrap(err);
    }
  };

  return {
    backend: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => {
      await run(pool, sql);
    },
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw new StoreUnavailableError(err);
      }
      const tx: Queryable = {
        query: (sql, params) => run(client, sql, params),
        exec: async (sql) => {
          await run(client, sql);
        },
      };
      let broken = false;
      // A checked-out client has no pool listener: without this, the server going away mid-transaction
      // would be an uncaught 'error' event and crash the process. The next query reports it instead.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await tx.query('BEGIN');
        const result = await fn(tx);
        await tx.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw wrap(err);
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
