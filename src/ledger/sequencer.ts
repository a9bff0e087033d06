import type { Queryable } from '../store/db.js';
import { type Checkpoint, type PublicSigningKey, type SigningKey, signCheckpoint } from './checkpoint.js';
import {
  canonicalEntry,
  chainHash,
  ENTRY_COLUMN_TYPES,
  ENTRY_COLUMNS,
  GENESIS_PREV_HASH,
  makeEntry,
  type QueuedBody,
  rowOf,
} from './entry.js';
import { CompactRange, leafHash, rootHash } from './merkle.js';
import { fetchNodes, withStoredNodes } from './tree-store.js';

/** Arbitrary but fixed: the advisory lock that makes one sequencer at a time, across processes. */
export const SEQUENCER_LOCK_KEY = 0x5_6_4_7_0_0_0_2;

const INSERT_ENTRIES = `INSERT INTO ledger_entries (${ENTRY_COLUMNS})
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS x(${ENTRY_COLUMN_TYPES.map(([column, type]) => `${column} ${type}`).join(', ')})`;

export async function lockSequencer(tx: Queryable, wait: boolean): Promise<boolean> {
  if (wait) {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK_KEY]);
    return true;
  }
  const [row] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
    SEQUENCER_LOCK_KEY,
  ]);
  return row?.locked === true;
}

export async function readHead(q: Queryable): Promise<{ seq: number; hash: string } | null> {
  const [row] = await q.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1',
  );
  return row ?? null;
}

/**
 * Moves up to `limit` committed queue rows, in queue order, into the ledger: gapless seq from the head,
 * chained hashes, the Merkle subtrees they complete. Must run under the sequencer lock, in one
 * transaction, so that a crash leaves either the queue rows or their entries, never both or neither.
 */
export async function sequenceBatch(tx: Queryable, limit: number): Promise<number> {
  const queued = await tx.query<{ id: number; entry_id: string; at: string; body: QueuedBody }>(
    'SELECT id, entry_id, at, body FROM ledger_queue ORDER BY id LIMIT $1',
    [limit],
  );
  if (queued.length === 0) return 0;
  const head = await readHead(tx);
  let size = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_PREV_HASH;
  const range = new CompactRange(size, await fetchNodes(tx, CompactRange.frontierKeys(size)));
  const rows: Record<string, unknown>[] = [];
  const nodes: Array<{ level: number; idx: number; hash: string }> = [];
  for (const q of queued) {
    const seq = size + 1;
    const entry = makeEntry({ seq, id: q.entry_id, at: q.at, prevHash }, q.body);
    const canonical = canonicalEntry(entry);
    const hash = chainHash(prevHash, canonical);
    for (const n of range.append(leafHash(canonical))) {
      nodes.push({ level: n.level, idx: n.idx, hash: n.hash.toString('hex') });
    }
    rows.push(rowOf({ ...entry, hash }));
    prevHash = hash;
    size = seq;
  }
  await tx.query(INSERT_ENTRIES, [JSON.stringify(rows)]);
  await tx.query(
    `INSERT INTO ledger_tree (level, idx, hash)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(level smallint, idx bigint, hash text)`,
    [JSON.stringify(nodes)],
  );
  await tx.query(
    'DELETE FROM ledger_queue WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb))',
    [JSON.stringify(queued.map((q) => q.id))],
  );
  return queued.length;
}

export interface CheckpointRow {
  tree_size: number;
  root_hash: string;
  timestamp: string;
  key_id: string;
  signature: string;
  [key: string]: unknown;
}

export const checkpointFromRow = (r: CheckpointRow): Checkpoint => ({
  treeSize: r.tree_size,
  rootHash: r.root_hash,
  timestamp: r.timestamp,
  keyId: r.key_id,
  signature: r.signature,
});

export async function latestCheckpoint(q: Queryable): Promise<Checkpoint | null> {
  const [row] = await q.query<CheckpointRow>(
    'SELECT tree_size, root_hash, timestamp, key_id, signature FROM ledger_checkpoints ORDER BY id DESC LIMIT 1',
  );
  return row ? checkpointFromRow(row) : null;
}

export async function registerKey(q: Queryable, key: PublicSigningKey): Promise<void> {
  await q.query(
    'INSERT INTO ledger_keys (key_id, public_key_pem) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING',
    [key.keyId, key.publicKeyPem],
  );
}

/**
 * Signs a checkpoint of the current head when the tree has grown since the last one and the last is at
 * least `minIntervalMs` old (0 = on demand; a first checkpoint, of the empty tree too, always).
 */
export async function maybeCheckpoint(
  tx: Queryable,
  key: SigningKey,
  gatewayId: string,
  minIntervalMs: number,
  now: Date = new Date(),
): Promise<Checkpoint | null> {
  const last = await latestCheckpoint(tx);
  const size = (await readHead(tx))?.seq ?? 0;
  if (last) {
    if (size === last.treeSize && last.keyId === key.keyId) return null;
    if (now.getTime() - Date.parse(last.timestamp) < minIntervalMs) return null;
  }
  const root = await withStoredNodes(tx, (get) => rootHash(get, size));
  const timestamp = now.toISOString();
  const cp = signCheckpoint(key, gatewayId, size, root.toString('hex'), timestamp);
  await registerKey(tx, key);
  await tx.query(
    `INSERT INTO ledger_checkpoints (tree_size, root_hash, timestamp, key_id, signature)
     VALUES ($1, $2, $3, $4, $5)`,
    [cp.treeSize, cp.rootHash, cp.timestamp, cp.keyId, cp.signature],
  );
  return cp;
}
