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
  /** The practitioner's stated reason, where the action has one (a decline). */
  reason?: string;
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

/** The optional fields of an entry: present when set, left out (never null) when not. */
const OPTIONAL_FIELDS = [
  'counterpart',
  'requestId',
  'caseReference',
  'purpose',
  'lawfulBasis',
  'consent',
  'fields',
  'categories',
  'reason',
] as const satisfies readonly (keyof QueuedBody)[];

/** Copies the optional fields that are set from one entry-shaped object to another. */
export function copyOptionalFields(from: Partial<QueuedBody>, to: Partial<QueuedBody>): void {
  const src = from as Record<string, unknown>;
  const dst = to as Record<string, unknown>;
  for (const key of OPTIONAL_FIELDS) if (src[key] !== undefined) dst[key] = src[key];
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

export interface EntryRow {
  seq: number;
  id: string;
  at: string;
  action: string;
  actor_agency: string;
  actor_sub: string;
  actor_role: string;
  counterpart: string | null;
  request_id: string | null;
  case_reference: string | null;
  subject_ref: string | null;
  subject_refs: string[];
  purpose: string | null;
  lawful_basis: string[] | null;
  consent: string | null;
  decision: 'permit' | 'deny';
  rule_ids: string[];
  policy_version: string;
  fields: Record<string, string[]> | null;
  categories: string[] | null;
  reason: string | null;
  prev_hash: string;
  hash: string;
  [key: string]: unknown;
}

export const ENTRY_COLUMNS =
  'seq, id, at, action, actor_agency, actor_sub, actor_role, counterpart, request_id, case_reference, ' +
  'subject_ref, subject_refs, purpose, lawful_basis, consent, decision, rule_ids, policy_version, fields, ' +
  'categories, reason, prev_hash, hash';

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

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
  const optional = {
    counterpart: opt(r.counterpart),
    requestId: opt(r.request_id),
    caseReference: opt(r.case_reference),
    purpose: opt(r.purpose),
    lawfulBasis: opt(r.lawful_basis),
    consent: opt(r.consent),
    fields: opt(r.fields),
    categories: opt(r.categories),
    reason: opt(r.reason),
  };
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) (body as unknown as Record<string, unknown>)[k] = v;
  }
  return {
    ...makeEntry({ seq: r.seq, id: r.id, at: r.at, prevHash: r.prev_hash }, body),
    hash: r.hash,
  };
}
