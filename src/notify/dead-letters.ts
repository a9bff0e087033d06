import { recordInboxItem } from '../ledger/index.js';
import type { Db, Queryable } from '../store/index.js';

/** The inbox item type of a dead letter (contract section 12). */
const DEAD_LETTERED = 'webhook.dead_lettered';

export interface DeadLetterInput {
  eventId: string;
  agency: string;
  type: string;
  /** Tries made, the last one included. */
  attempts: number;
  /** The last try's failure code (webhook.ts), never a body. */
  lastError: string;
}

class AlreadyOpen extends Error {}

/**
 * Stage 4: gives up on an event. The dead letter and the agency's inbox item (`webhook.dead_lettered`,
 * ref = the event's id) commit together; an event with an open dead letter gets no second one, so a
 * worker that retries this after a lost acknowledgement writes nothing twice. Returns whether it wrote.
 */
export async function recordDeadLetter(db: Db, input: DeadLetterInput): Promise<boolean> {
  try {
    await db.transaction(async (tx) => {
      const inboxItemId = await recordInboxItem(tx, {
        agency: input.agency,
        kind: 'event',
        type: DEAD_LETTERED,
        ref: input.eventId,
      });
      const rows = await tx.query(
        `INSERT INTO webhook_dead_letters (event_id, agency_id, type, attempts, last_error, inbox_item_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (event_id) WHERE replayed_at IS NULL DO NOTHING
         RETURNING id`,
        [input.eventId, input.agency, input.type, input.attempts, input.lastError, inboxItemId],
      );
      if (rows.length === 0) throw new AlreadyOpen();
    });
    return true;
  } catch (err) {
    if (err instanceof AlreadyOpen) return false;
    throw err;
  }
}

export interface DeadLetter {
  eventId: string;
  agency: string;
  type: string;
  attempts: number;
  lastError: string;
  deadAt: string;
  replayedAt: string | null;
}

interface DeadLetterRow extends Record<string, unknown> {
  event_id: string;
  agency_id: string;
  type: string;
  attempts: number;
  last_error: string;
  dead_at: string;
  replayed_at: string | null;
}

/** Open dead letters (or all, replayed ones too), oldest first. */
export async function listDeadLetters(
  db: Queryable,
  filter: { agency?: string; includeReplayed?: boolean } = {},
): Promise<DeadLetter[]> {
  const rows = await db.query<DeadLetterRow>(
    `SELECT event_id, agency_id, type, attempts, last_error, dead_at, replayed_at
       FROM webhook_dead_letters
      WHERE ($1::text IS NULL OR agency_id = $1) AND ($2 OR replayed_at IS NULL)
      ORDER BY id`,
    [filter.agency ?? null, filter.includeReplayed === true],
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    agency: r.agency_id,
    type: r.type,
    attempts: r.attempts,
    lastError: r.last_error,
    deadAt: r.dead_at,
    replayedAt: r.replayed_at,
  }));
}

/**
 * Replays open dead letters: closes them and puts their events back in the outbox as unrelayed, under
 * a new job id (queue.ts jobIdOf), so that a running gateway's relay queues them again within a second
 * and its worker delivers them with a fresh set of tries. Returns the event ids replayed.
 */
export async function replayDeadLetters(
  db: Db,
  which: { eventId: string } | { agency: string },
): Promise<string[]> {
  const [column, value] =
    'eventId' in which ? ['event_id::text', which.eventId] : ['agency_id', which.agency];
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ event_id: string }>(
      `WITH replayed AS (
         UPDATE webhook_dead_letters SET replayed_at = clock_timestamp()
          WHERE replayed_at IS NULL AND ${column} = $1
          RETURNING event_id
       )
       UPDATE outbox SET relayed_at = NULL, settled_at = NULL, replays = replays + 1
        WHERE event_id IN (SELECT event_id FROM replayed)
        RETURNING event_id`,
      [value],
    );
    return rows.map((r) => r.event_id);
  });
}

/** Open dead letters per agency (metrics). */
export async function openDeadLetterCounts(db: Queryable): Promise<Array<{ agency: string; n: number }>> {
  return db.query<{ agency: string; n: number }>(
    `SELECT agency_id AS agency, count(*)::int AS n
       FROM webhook_dead_letters WHERE replayed_at IS NULL GROUP BY agency_id`,
  );
}
