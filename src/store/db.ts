export type Row = Record<string, unknown>;

/** What every caller of the store sees: plain parameterised SQL, the same on PostgreSQL and PGlite. */
export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly backend: 'postgres' | 'pglite';
  /** Runs fn in one transaction: it commits when fn resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Raised when the database cannot be reached or fails in a way the caller did not cause. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('database unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Both backends return the same shapes: int8 as number (ids and sequence numbers stay far below 2^53),
 * timestamps as RFC 3339 UTC strings, dates as YYYY-MM-DD.
 */
export const TYPE_PARSERS: Record<number, (value: string) => unknown> = {
  20: (v) => Number(v),
  1114: (v) => new Date(`${v.replace(' ', 'T')}Z`).toISOString(),
  1184: (v) => new Date(v).toISOString(),
  1082: (v) => v,
};
