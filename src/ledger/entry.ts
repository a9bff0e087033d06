import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// The package is CommonJS with a declaration that claims an ES default export: at run time the default
// import is the function itself, which NodeNext typing cannot see.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** A ledger entry as contract section 11 shows it; absent optional fields are left out, never null. */
export interface LedgerEntry {
  seq: number;
  id: string;
  at: string;
  action: string;
  actor: { agency: string; sub: string; role: string };
  counterpart?: string;
  requestId?: string;
  caseReference?: string;
  /** The canonical keyed hash of the subject, or null for an entry about no subject. */
  subjectRef: string | null;
  /** Every keyed hash one can find the subject by (one per identifier); part of the hash chain. */
  subjectRefs: string[];
  purpose?: string;
  lawfulBasis?: string[];
  consent?: string;
  decision: 'permit' | 'deny';
  ruleIds: string[];
  policyVersion: string;
  fields?: Record<string, string[]>;
  categories?: string[];
  /**
   * A reason code (an override's reason). Entries written before commitments existed (migration 6) may
   * hold a practitioner's stated reason here; new entries never hold free text.
   */
  reason?: string;
  /** Every party of a record that concerns several agencies, besides the actor. */
  counterparts?: string[];
  /** The consent record the entry is about, or that decided it (the most recent, when several did). */
  consentId?: string;
  /** Every consent record that decided some category, when more than one did. */
  consentIds?: string[];
  concernId?: string;
  flagId?: string;
  /** A decision's outcome code (a concern's decision). */
  outcome?: string;
  /** Field name -> hex SHA-256(salt ‖ UTF-8 text) of free text kept in the record (docs/ledger.md). */
  commitments?: Record<string, string>;
  prevHash: string;
  hash: string;
}

/** What the writer queues: everything but what the sequencer assigns (seq, at, prevHash, hash). */
export type QueuedBody = Omit<LedgerEntry, 'seq' | 'id' | 'at' | 'prevHash' | 'hash'>;

export const GENESIS_PREV_HASH = '0'.repeat(64);

/**
 * The canonical entry: RFC 8785 (JCS) JSON of the entry without its own `hash`, so it includes seq, id,
 * at and prevHash. Both the chain hash and the Merkle leaf are computed over these bytes.
 */
export function canonicalEntry(entry: Omit<LedgerEntry, 'hash'> | LedgerEntry): Buffer {
  const { hash: _omit, ...rest } = entry as LedgerEntry;
  const text = canonicalize(rest);
  if (text === undefined) throw new Error('entry cannot be canonicalised');
  return Buffer.from(text, 'utf8');
}

/** hash = hex SHA-256( UTF-8(prevHash as 64 lowercase hex characters) ‖ canonical entry ). */
export function chainHash(prevHash: string, canonical: Buffer): string {
  return createHash('sha256').update(prevHash, 'utf8').update(canonical).digest('hex');
}

/**
 * The optional fields of an entry, with their column and SQL type: present when set, left out (never
 * null) when not. Everything that reads or writes entry rows is derived from this one list.
 */
const OPTIONAL_FIELDS = [
  ['counterpart', 'counterpart', 'text'],
  ['requestId', 'request_id', 'text'],
  ['caseReference', 'case_reference', 'text'],
  ['purpose', 'purpose', 'text'],
  ['lawfulBasis', 'lawful_basis', 'text[]'],
  ['consent', 'consent', 'text'],
  ['fields', 'fields', 'jsonb'],
  ['categories', 'categories', 'text[]'],
  ['reason', 'reason', 'text'],
  ['counterparts', 'counterparts', 'text[]'],
  ['consentId', 'consent_id', 'text'],
  ['consentIds', 'consent_ids', 'text[]'],
  ['concernId', 'concern_id', 'text'],
  ['flagId', 'flag_id', 'text'],
  ['outcome', 'outcome', 'text'],
  ['commitments', 'commitments', 'jsonb'],
] as const satisfies readonly (readonly [keyof QueuedBody, string, string])[];

/** Every column of ledger_entries with its SQL type, in insert order. */
export const ENTRY_COLUMN_TYPES: readonly (readonly [string, string])[] = [
  ['seq', 'bigint'],
  ['id', 'uuid'],
  ['at', 'timestamptz'],
  ['action', 'text'],
  ['actor_agency', 'text'],
  ['actor_sub', 'text'],
  ['actor_role', 'text'],
  ['subject_ref', 'text'],
  ['subject_refs', 'text[]'],
  ['decision', 'text'],
  ['rule_ids', 'text[]'],
  ['policy_version', 'text'],
  ...OPTIONAL_FIELDS.map(([, column, type]) => [column, type] as const),
  ['prev_hash', 'text'],
  ['hash', 'text'],
];

export const ENTRY_COLUMNS = ENTRY_COLUMN_TYPES.map(([c]) => c).join(', ');

/** Copies the optional fields that are set from one entry-shaped object to another. */
export function copyOptionalFields(from: Partial<QueuedBody>, to: Partial<QueuedBody>): void {
  const src = from as Record<string, unknown>;
  const dst = to as Record<string, unknown>;
  for (const [key] of OPTIONAL_FIELDS) if (src[key] !== undefined) dst[key] = src[key];
}

/** Builds the entry object in one fixed shape from its stored or queued parts. */
export function makeEntry(
  head: { seq: number; id: string; at: string; prevHash: string },
  body: QueuedBody,
): Omit<LedgerEntry, 'hash'> {
  const e: Omit<LedgerEntry, 'hash'> = {
    seq: head.seq,
    id: head.id,
    at: head.at,
    action: body.action,
    actor: { agency: body.actor.agency, sub: body.actor.sub, role: body.actor.role },
    subjectRef: body.subjectRef,
    subjectRefs: body.subjectRefs,
    decision: body.decision,
    ruleIds: body.ruleIds,
    policyVersion: body.policyVersion,
    prevHash: head.prevHash,
  };
  copyOptionalFields(body, e);
  return e;
}

/** A row of ledger_entries as the store returns it (optional columns null when absent). */
export type EntryRow = Record<string, unknown> & {
  seq: number;
  id: string;
  at: string;
  action: string;
  actor_agency: string;
  actor_sub: string;
  actor_role: string;
  subject_ref: string | null;
  subject_refs: string[];
  decision: 'permit' | 'deny';
  rule_ids: string[];
  policy_version: string;
  prev_hash: string;
  hash: string;
};

/** The row ledger_entries stores for an entry. */
export function rowOf(entry: LedgerEntry): Record<string, unknown> {
  const src = entry as unknown as Record<string, unknown>;
  const row: Record<string, unknown> = {
    seq: entry.seq,
    id: entry.id,
    at: entry.at,
    action: entry.action,
    actor_agency: entry.actor.agency,
    actor_sub: entry.actor.sub,
    actor_role: entry.actor.role,
    subject_ref: entry.subjectRef,
    subject_refs: entry.subjectRefs,
    decision: entry.decision,
    rule_ids: entry.ruleIds,
    policy_version: entry.policyVersion,
    prev_hash: entry.prevHash,
    hash: entry.hash,
  };
  for (const [key, column] of OPTIONAL_FIELDS) row[column] = src[key] ?? null;
  return row;
}

export function entryFromRow(r: EntryRow): LedgerEntry {
  const body: QueuedBody = {
    action: r.action,
    actor: { agency: r.actor_agency, sub: r.actor_sub, role: r.actor_role },
    subjectRef: r.subject_ref,
    subjectRefs: r.subject_refs,
    decision: r.decision,
    ruleIds: r.rule_ids,
    policyVersion: r.policy_version,
  };
  const optional = body as unknown as Record<string, unknown>;
  for (const [key, column] of OPTIONAL_FIELDS) {
    const v = r[column];
    if (v !== null && v !== undefined) optional[key] = v;
  }
  return {
    ...makeEntry({ seq: r.seq, id: r.id, at: r.at, prevHash: r.prev_hash }, body),
    hash: r.hash,
  };
}
