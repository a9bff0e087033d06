import { randomUUID } from 'node:crypto';
import { AppError } from '../http/errors.js';
import { type Db, type Queryable, StoreUnavailableError } from '../store/db.js';
import { copyOptionalFields, type QueuedBody } from './entry.js';
import { computeSubjectRefs, currentSubjectKey, type SubjectIdentifiers } from './subject.js';

/**
 * An entry as a caller writes it: the entry's own fields, with the subject's identifiers in place of the
 * keyed hashes the ledger makes of them (the identifiers themselves are never stored).
 */
export type LedgerEntryInput = Omit<QueuedBody, 'subjectRef' | 'subjectRefs'> & {
  subject: SubjectIdentifiers | null;
};

export type InboxKind = 'concern' | 'request' | 'event';

/** How an event stands in its recipient's inbox (contract section 12). */
export interface InboxPlacement {
  /** `concern` / `request`: work addressed to the agency; `event`: news about something. */
  kind: InboxKind;
  /** The id of what the event is about (a request, a concern, a flag, a consent record, an event). */
  ref: string;
  /** RFC 3339: when the work is due. */
  dueBy?: string;
}

export interface OutboxEventInput {
  /** The recipient agency. */
  agency: string;
  type: string;
  /** References only (ids, types, times, agency ids), never personal data. */
  data: Record<string, unknown>;
  /** Every event is an inbox item of its recipient too, under the event's own id. */
  inbox: InboxPlacement;
}

/** An inbox item that is no event to deliver (a dead-lettered webhook names the event it gave up on). */
export interface InboxItemInput extends InboxPlacement {
  agency: string;
  type: string;
}

export interface AppendResult {
  entryIds: string[];
  eventIds: string[];
}

/** The ledger could not take the record; the caller's transaction must not commit. */
export class LedgerWriteError extends Error {
  constructor(cause: unknown) {
    super('the ledger could not record the entry', { cause });
    this.name = 'LedgerWriteError';
  }
}

/** A caller passed something the ledger must not hold; a programming error, not an outage. */
export class LedgerInputError extends Error {}

/** Keys that would mean an event carries personal data rather than references. */
const PERSONAL_KEYS = new Set([
  'nhsnumber',
  'pncid',
  'name',
  'given',
  'family',
  'dateofbirth',
  'expecteddeliverydate',
  'postcode',
  'subject',
  'child',
]);

function assertReferencesOnly(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    for (const v of value) assertReferencesOnly(v, where);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (PERSONAL_KEYS.has(k.toLowerCase())) {
        throw new LedgerInputError(`${where} must carry references only, not "${k}"`);
      }
      assertReferencesOnly(v, where);
    }
  }
}

function queuedBody(e: LedgerEntryInput, key: () => Buffer): QueuedBody {
  if (!e.action || !e.actor?.agency || !e.actor.sub || !e.actor.role || !e.policyVersion) {
    throw new LedgerInputError('a ledger entry needs action, actor and policyVersion');
  }
  if (e.decision !== 'permit' && e.decision !== 'deny') {
    throw new LedgerInputError('a ledger entry decision is permit or deny');
  }
  const refs = e.subject ? computeSubjectRefs(key(), e.subject) : null;
  if (e.subject && !refs) throw new LedgerInputError('the subject has no identifier to hash');
  const body: QueuedBody = {
    action: e.action,
    actor: { agency: e.actor.agency, sub: e.actor.sub, role: e.actor.role },
    subjectRef: refs?.subjectRef ?? null,
    subjectRefs: refs?.subjectRefs ?? [],
    decision: e.decision,
    ruleIds: [...e.ruleIds],
    policyVersion: e.policyVersion,
  };
  copyOptionalFields(e, body);
  return body;
}

/**
 * The one write path for the record. Run it inside the transaction that makes the domain change: the
 * entries join the sequencer's queue and the events the outbox, committing or rolling back with the
 * change. Any failure to write throws LedgerWriteError, which `recordedTransaction` turns into 503.
 */
export async function appendRecord(
  tx: Queryable,
  record: { entries: LedgerEntryInput[]; events?: OutboxEventInput[] },
  subjectKey: () => Buffer = currentSubjectKey,
): Promise<AppendResult> {
  const events = record.events ?? [];
  for (const ev of events) {
    if (!ev.agency || !ev.type) throw new LedgerInputError('an event needs a recipient agency and a type');
    if (!ev.inbox?.ref) throw new LedgerInputError(`event ${ev.type} needs an inbox placement with a ref`);
    assertReferencesOnly(ev.data, `event ${ev.type}`);
  }
  let bodies: QueuedBody[];
  try {
    bodies = record.entries.map((e) => queuedBody(e, subjectKey));
  } catch (err) {
    if (err instanceof LedgerInputError) throw err;
    throw new LedgerWriteError(err);
  }
  const entryIds = bodies.map(() => randomUUID());
  const eventIds = events.map(() => randomUUID());
  try {
    await insertAll(
      tx,
      bodies.map((body, i) => ({ entry_id: entryIds[i], body })),
      events.map((ev, i) => ({ agency_id: ev.agency, event_id: eventIds[i], type: ev.type, data: ev.data })),
      events.map((ev, i) => ({ ...ev.inbox, id: eventIds[i] as string, agency: ev.agency, type: ev.type })),
    );
  } catch (err) {
    throw new LedgerWriteError(err);
  }
  return { entryIds, eventIds };
}

const QUEUE_ROWS = `SELECT x.entry_id, x.body FROM jsonb_to_recordset($1::jsonb) AS x(entry_id uuid, body jsonb)`;
const OUTBOX_ROWS = `SELECT x.agency_id, x.event_id, x.type, x.data
  FROM jsonb_to_recordset($2::jsonb) AS x(agency_id text, event_id uuid, type text, data jsonb)`;
const INBOX_ROWS = (param: string) => `SELECT x.id, x.agency_id, x.kind, x.ref, x.type, x.due_by
  FROM jsonb_to_recordset(${param}::jsonb)
    AS x(id uuid, agency_id text, kind text, ref text, type text, due_by timestamptz)`;

const inboxRows = (items: Array<InboxItemInput & { id: string }>) =>
  JSON.stringify(
    items.map((it) => ({
      id: it.id,
      agency_id: it.agency,
      kind: it.kind,
      ref: it.ref,
      type: it.type,
      due_by: it.dueBy ?? null,
    })),
  );

/**
 * The entries, their events and the events' inbox items in one statement: one round trip to the
 * database for the whole record, which a request pays for on its way to the answer.
 */
async function insertAll(
  tx: Queryable,
  queued: Array<{ entry_id: string | undefined; body: QueuedBody }>,
  outbox: Array<{
    agency_id: string;
    event_id: string | undefined;
    type: string;
    data: Record<string, unknown>;
  }>,
  inbox: Array<InboxItemInput & { id: string }>,
): Promise<void> {
  if (queued.length === 0 && outbox.length === 0) return;
  await tx.query(
    `WITH queued AS (INSERT INTO ledger_queue (entry_id, body) ${QUEUE_ROWS}),
          events AS (INSERT INTO outbox (agency_id, event_id, type, data) ${OUTBOX_ROWS})
     INSERT INTO inbox_items (id, agency_id, kind, ref, type, due_by) ${INBOX_ROWS('$3')}`,
    [JSON.stringify(queued), JSON.stringify(outbox), inboxRows(inbox)],
  );
}

async function insertInboxItems(tx: Queryable, items: Array<InboxItemInput & { id: string }>): Promise<void> {
  await tx.query(`INSERT INTO inbox_items (id, agency_id, kind, ref, type, due_by) ${INBOX_ROWS('$1')}`, [
    inboxRows(items),
  ]);
}

/** Puts an item that is no event in an agency's inbox, in the caller's transaction; returns its id. */
export async function recordInboxItem(tx: Queryable, item: InboxItemInput): Promise<string> {
  const id = randomUUID();
  try {
    await insertInboxItems(tx, [{ ...item, id }]);
  } catch (err) {
    throw new LedgerWriteError(err);
  }
  return id;
}

const unavailable = () =>
  new AppError('audit_unavailable', 'The audit ledger cannot record this action; nothing was disclosed.');

/**
 * `db.transaction` for every change that must be ledgered. Fails closed: a ledger write error, a lost
 * database, or a commit that fails after the work was done all become 503 `audit_unavailable`.
 */
export async function recordedTransaction<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  let workDone = false;
  try {
    return await db.transaction(async (tx) => {
      const result = await fn(tx);
      workDone = true;
      return result;
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof LedgerWriteError || err instanceof StoreUnavailableError || workDone) {
      throw unavailable();
    }
    throw err;
  }
}
