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

export async function markRelayed(tx: Queryable, rowIds: readonly number[]): Promise<void> {
  await tx.query('UPDATE outbox SET relayed_at = clock_timestamp() WHERE id = ANY($1::bigint[])', [rowIds]);
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
