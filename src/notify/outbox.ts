import type { Queryable } from '../store/index.js';
import type { RelayedEvent } from './queue.js';

/** Arbitrary but fixed: the advisory lock that lets one relay at a time take rows, in order. */
const RELAY_LOCK_KEY = 0x5_6_4_7_0_0_0_7;

interface OutboxRow extends Record<string, unknown> {
  id: number;
  agency_id: string;
  event_id: string;
  type: string;
  occurred_at: string;
  data: Record<string, unknown>;
  replays: number;
}

/**
 * Takes the oldest committed rows not yet relayed, in id order, for the caller's transaction: none when
 * another gateway's relay holds the lock (it is moving them, in order, right now).
 */
export async function takeUnrelayed(
  tx: Queryable,
  limit: number,
): Promise<Array<RelayedEvent & { rowId: number }>> {
  const [lock] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
    RELAY_LOCK_KEY,
  ]);
  if (!lock?.ok) return [];
  const rows = await tx.query<OutboxRow>(
    `SELECT id, agency_id, event_id, type, occurred_at, data, replays
       FROM outbox WHERE relayed_at IS NULL
      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => ({
    rowId: r.id,
    id: r.event_id,
    agency: r.agency_id,
    type: r.type,
    occurredAt: r.occurred_at,
    data: r.data,
    replays: r.replays,
  }));
}

/** Marks rows relayed; those handed over without a job (`settledIds`) are settled at once. */
export async function markRelayed(
  tx: Queryable,
  rowIds: readonly number[],
  settledIds: readonly number[],
): Promise<void> {
  await tx.query(
    `UPDATE outbox SET relayed_at = clock_timestamp(),
            settled_at = CASE WHEN id = ANY($2::bigint[]) THEN clock_timestamp() END
      WHERE id = ANY($1::bigint[])`,
    [rowIds, settledIds],
  );
}

/** A relayed row the queue has not settled yet, as the reconciler checks it. */
export interface UnsettledRow {
  rowId: number;
  eventId: string;
  agency: string;
  type: string;
  replays: number;
}

/** Relayed, unsettled rows after `afterId`, in id order. */
export async function takeUnsettled(db: Queryable, afterId: number, limit: number): Promise<UnsettledRow[]> {
  const rows = await db.query<{
    id: number;
    event_id: string;
    agency_id: string;
    type: string;
    replays: number;
  }>(
    `SELECT id, event_id, agency_id, type, replays FROM outbox
      WHERE relayed_at IS NOT NULL AND settled_at IS NULL AND id > $1
      ORDER BY id LIMIT $2`,
    [afterId, limit],
  );
  return rows.map((r) => ({
    rowId: Number(r.id),
    eventId: r.event_id,
    agency: r.agency_id,
    type: r.type,
    replays: r.replays,
  }));
}

/**
 * Settles rows, or hands them back to the relay (`unrelay`); returns how many changed. Only rows still as
 * they were read change: a dead letter replayed in between (replays moved on) is not touched.
 */
export async function resolveUnsettled(
  db: Queryable,
  rows: readonly UnsettledRow[],
  how: 'settle' | 'unrelay',
): Promise<number> {
  if (rows.length === 0) return 0;
  const set = how === 'settle' ? 'settled_at = clock_timestamp()' : 'relayed_at = NULL';
  const changed = await db.query(
    `UPDATE outbox SET ${set}
      FROM unnest($1::bigint[], $2::int[]) AS r(id, replays)
     WHERE outbox.id = r.id AND outbox.replays = r.replays
       AND outbox.relayed_at IS NOT NULL AND outbox.settled_at IS NULL
     RETURNING outbox.id`,
    [rows.map((r) => r.rowId), rows.map((r) => r.replays)],
  );
  return changed.length;
}

export interface OutboxBacklog {
  /** Committed events not yet handed to the queue. */
  backlog: number;
  /** Age in seconds of the oldest of them; null when there is none. */
  oldestAgeSeconds: number | null;
}

export async function outboxBacklog(db: Queryable): Promise<OutboxBacklog> {
  const [row] = await db.query<{ n: number; age: number | null }>(
    `SELECT count(*)::int AS n,
            extract(epoch FROM clock_timestamp() - min(occurred_at))::float8 AS age
       FROM outbox WHERE relayed_at IS NULL`,
  );
  return {
    backlog: row?.n ?? 0,
    oldestAgeSeconds: row?.age === null || row?.age === undefined ? null : Math.max(0, row.age),
  };
}
