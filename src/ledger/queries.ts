import type { KeyObject } from 'node:crypto';
import type { Queryable } from '../store/db.js';
import { type Checkpoint, type PublicSigningKey, publicKeyFromPem } from './checkpoint.js';
import { ENTRY_COLUMNS, type EntryRow, entryFromRow, type LedgerEntry } from './entry.js';
import { consistencyPath, inclusionPath } from './merkle.js';
import { type CheckpointRow, checkpointFromRow, readHead } from './sequencer.js';
import { withStoredNodes } from './tree-store.js';

export interface PublishedKey {
  keyId: string;
  alg: 'Ed25519';
  publicKeyPem: string;
}

/** Every key that has signed checkpoints here, and the current one. */
export async function listKeys(q: Queryable, current: PublicSigningKey): Promise<PublishedKey[]> {
  const rows = await q.query<{ key_id: string; public_key_pem: string }>(
    'SELECT key_id, public_key_pem FROM ledger_keys ORDER BY added_at, key_id',
  );
  const keys = rows.map((r) => ({
    keyId: r.key_id,
    alg: 'Ed25519' as const,
    publicKeyPem: r.public_key_pem,
  }));
  if (!keys.some((k) => k.keyId === current.keyId)) {
    keys.push({ keyId: current.keyId, alg: 'Ed25519', publicKeyPem: current.publicKeyPem });
  }
  return keys;
}

/**
 * The public key for a keyId. The current key comes from the certificates folder; an earlier one from
 * the append-only key table, after checking that the stored PEM really hashes to that keyId.
 */
export async function publicKeyFor(
  q: Queryable,
  keyId: string,
  current: PublicSigningKey,
): Promise<KeyObject | undefined> {
  if (keyId === current.keyId) return current.publicKey;
  const [row] = await q.query<{ public_key_pem: string }>(
    'SELECT public_key_pem FROM ledger_keys WHERE key_id = $1',
    [keyId],
  );
  if (!row) return undefined;
  const key = publicKeyFromPem(row.public_key_pem);
  return key.keyId === keyId ? key.publicKey : undefined;
}

export async function getEntry(q: Queryable, seq: number): Promise<LedgerEntry | null> {
  const [row] = await q.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE seq = $1`, [seq]);
  return row ? entryFromRow(row) : null;
}

export async function treeSize(q: Queryable): Promise<number> {
  return (await readHead(q))?.seq ?? 0;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  auditPath: string[];
}

/** leafIndex = seq - 1. The caller checks 1 <= seq <= size <= the current tree size. */
export async function inclusionProof(q: Queryable, seq: number, size: number): Promise<InclusionProof> {
  const leafIndex = seq - 1;
  return withStoredNodes(q, (get) => ({
    leafIndex,
    treeSize: size,
    leafHash: get(0, leafIndex).toString('hex'),
    auditPath: inclusionPath(get, leafIndex, size).map((h) => h.toString('hex')),
  }));
}

export interface ConsistencyProof {
  first: number;
  second: number;
  consistency: string[];
}

/** RFC 9162 2.1.4; an empty proof when first = 0 (every tree extends the empty one) or first = second. */
export async function consistencyProof(
  q: Queryable,
  first: number,
  second: number,
): Promise<ConsistencyProof> {
  if (first === 0) return { first, second, consistency: [] };
  return withStoredNodes(q, (get) => ({
    first,
    second,
    consistency: consistencyPath(get, first, second).map((h) => h.toString('hex')),
  }));
}

export async function checkpointsFrom(q: Queryable, afterId: number, limit: number) {
  return q.query<CheckpointRow & { id: number }>(
    `SELECT id, tree_size, root_hash, timestamp, key_id, signature FROM ledger_checkpoints
      WHERE id > $1 ORDER BY id LIMIT $2`,
    [afterId, limit],
  );
}

/** The latest checkpoint whose tree holds `seq`, or null when none does yet. */
export async function checkpointCovering(q: Queryable, seq: number): Promise<Checkpoint | null> {
  const [row] = await q.query<CheckpointRow>(
    `SELECT tree_size, root_hash, timestamp, key_id, signature FROM ledger_checkpoints
      WHERE tree_size >= $1 ORDER BY id DESC LIMIT 1`,
    [seq],
  );
  return row ? checkpointFromRow(row) : null;
}

export interface AuditFilter {
  /** The caller's agency: only entries where it is actor, counterpart or a party. Always applied. */
  viewer: string;
  subjectRefs?: string[];
  actorSub?: string;
  agency?: string;
  action?: string;
  from?: string;
  to?: string;
  afterSeq?: number;
  /** The read's cut (auditCut's asOf): entries chained after the read began are left for the next. */
  upToSeq?: number;
  limit: number;
}

/** An entry involves an agency that acts in it, is its counterpart, or is one of its parties. */
const involves = (p: string) => `(actor_agency = ${p} OR counterpart = ${p} OR ${p} = ANY (counterparts))`;

/** Filters narrow the viewer's own entries; none of them can widen past `viewer`. */
export async function queryEntries(q: Queryable, f: AuditFilter): Promise<LedgerEntry[]> {
  const where = [involves('$1')];
  const params: unknown[] = [f.viewer];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.subjectRefs)
    add(
      (p) => `subject_refs && ARRAY(SELECT jsonb_array_elements_text(${p}::jsonb))`,
      JSON.stringify(f.subjectRefs),
    );
  if (f.actorSub !== undefined) add((p) => `actor_sub = ${p}`, f.actorSub);
  if (f.agency !== undefined) add(involves, f.agency);
  if (f.action !== undefined) add((p) => `action = ${p}`, f.action);
  if (f.from !== undefined) add((p) => `at >= ${p}::timestamptz`, f.from);
  if (f.to !== undefined) add((p) => `at < ${p}::timestamptz`, f.to);
  if (f.afterSeq !== undefined) add((p) => `seq > ${p}`, f.afterSeq);
  if (f.upToSeq !== undefined) add((p) => `seq <= ${p}`, f.upToSeq);
  params.push(f.limit);
  const rows = await q.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${params.length}`,
    params,
  );
  return rows.map(entryFromRow);
}

/**
 * What an audit read includes: every entry up to `asOf` (the head it reads), and how many entries
 * committed before it began (queue ids up to `upToQueueId`, from Ledger.catchUp) are `pending`, not yet
 * chained. One statement, so both come from one snapshot.
 */
export interface AuditCut {
  asOf: number;
  pending: number;
}

export async function auditCut(q: Queryable, upToQueueId: number): Promise<AuditCut> {
  const [row] = await q.query<{ as_of: number; pending: number }>(
    `SELECT coalesce((SELECT max(seq) FROM ledger_entries), 0)::bigint AS as_of,
            (SELECT count(*) FROM ledger_queue WHERE id <= $1)::int AS pending`,
    [upToQueueId],
  );
  return { asOf: row?.as_of ?? 0, pending: row?.pending ?? 0 };
}
