import type { Db, Queryable } from '../store/db.js';
import { type Checkpoint, checkpointSignatureValid, type PublicSigningKey } from './checkpoint.js';
import {
  canonicalEntry,
  chainHash,
  ENTRY_COLUMNS,
  type EntryRow,
  entryFromRow,
  GENESIS_PREV_HASH,
} from './entry.js';
import { CompactRange, EMPTY_ROOT, leafHash } from './merkle.js';
import { checkpointsFrom, publicKeyFor } from './queries.js';
import { latestCheckpoint, readHead } from './sequencer.js';
import { fetchNodes } from './tree-store.js';

export interface VerifyResult {
  ok: boolean;
  /** Entries verified: every seq from 1 to this one (to the first bad one, exclusive, when not ok). */
  entries: number;
  head: { seq: number; hash: string } | null;
  checkpoint: Checkpoint | null;
  checkpointsVerified: number;
  /** The first seq that is changed, missing or out of order (absent when ok). */
  firstBadSeq?: number;
  /** What failed, naming the seq or checkpoint; no entry content. */
  reason?: string;
}

/**
 * How far a verification got, to go on from: entries 1..size checked, the hash of entry `size`, the
 * tree's right edge at that size, and the checkpoints checked (by id; they are signed in id order).
 */
export interface VerifiedState {
  size: number;
  prevHash: string;
  range: CompactRange;
  lastCheckpointId: number;
  checkpointsVerified: number;
}

export const genesisState = (): VerifiedState => ({
  size: 0,
  prevHash: GENESIS_PREV_HASH,
  range: new CompactRange(0, () => EMPTY_ROOT),
  lastCheckpointId: 0,
  checkpointsVerified: 0,
});

export interface VerifyOptions {
  gatewayId: string;
  signingKey: PublicSigningKey;
}

const PAGE = 2000;

/**
 * Recomputes everything from the entries alone: each entry's hash over its stored content, the chain
 * links, gapless seq from 1, the Merkle subtrees stored for proofs, and the root and Ed25519 signature
 * of every checkpoint. Streams in pages, so memory stays O(page + log n).
 */
export async function verifyLedgerWith(db: Db, opts: VerifyOptions): Promise<VerifyResult> {
  return (await inSnapshot(db, (q) => verifyFrom(q, opts, genesisState()))).result;
}

/** One snapshot: entries and checkpoints appended while we read must not look like tampering. */
export async function inSnapshot<T>(db: Db, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (q) => {
    if (db.backend === 'postgres') {
      await q.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    }
    return fn(q);
  });
}

/**
 * Whether the entry a verification ended on is still the one it verified: present, with the hash it
 * had, and that hash still its own content's. Cheap (one row); it cannot see a change further back.
 */
export async function anchorHolds(q: Queryable, state: VerifiedState): Promise<boolean> {
  if (state.size === 0) return true;
  const [row] = await q.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE seq = $1`, [
    state.size,
  ]);
  if (!row) return false;
  const entry = entryFromRow(row);
  return entry.hash === state.prevHash && chainHash(entry.prevHash, canonicalEntry(entry)) === entry.hash;
}

/**
 * Verifies the entries after `from.size` and the checkpoints after `from.lastCheckpointId`, taking
 * `from` as already verified; from the genesis state that is the whole ledger. Returns the result and,
 * when it is ok, the state it reached (`from` is left unchanged either way).
 */
export async function verifyFrom(
  q: Queryable,
  opts: VerifyOptions,
  from: VerifiedState,
): Promise<{ result: VerifyResult; state?: VerifiedState }> {
  const head = await readHead(q);
  const checkpoint = await latestCheckpoint(q);
  const range = from.range.clone();
  let expected = from.size + 1;
  let prevHash = from.prevHash;
  let verifiedCheckpoints = from.checkpointsVerified;
  /** The tree size up to which a signed checkpoint has vouched: bad data beyond it is named from here. */
  let vouched = from.size;
  let cpCursor = from.lastCheckpointId;
  let cpPage: Array<Checkpoint & { id: number }> = [];
  let cpDone = false;

  const fail = (firstBadSeq: number, reason: string) => ({
    result: {
      ok: false,
      entries: expected - 1,
      head,
      checkpoint,
      checkpointsVerified: verifiedCheckpoints,
      firstBadSeq,
      reason,
    },
  });

  const nextCheckpoints = async () => {
    if (cpDone) return;
    const rows = await checkpointsFrom(q, cpCursor, PAGE);
    cpPage = rows
      .map((r) => ({
        id: r.id,
        treeSize: r.tree_size,
        rootHash: r.root_hash,
        timestamp: r.timestamp,
        keyId: r.key_id,
        signature: r.signature,
      }))
      .sort((a, b) => a.treeSize - b.treeSize || a.id - b.id);
    const last = rows.at(-1);
    if (last) cpCursor = last.id;
    cpDone = rows.length < PAGE;
  };

  /** Checkpoints are checked as the recomputed tree reaches their size; ids follow tree sizes. */
  const checkCheckpointsAt = async (size: number) => {
    for (;;) {
      if (cpPage.length === 0) await nextCheckpoints();
      const cp = cpPage[0];
      if (!cp || cp.treeSize > size) return null;
      cpPage.shift();
      if (cp.treeSize < size) return fail(vouched + 1, `checkpoint of size ${cp.treeSize} is out of order`);
      const publicKey = await publicKeyFor(q, cp.keyId, opts.signingKey);
      if (!publicKey || !checkpointSignatureValid(cp, opts.gatewayId, publicKey)) {
        return fail(vouched + 1, `checkpoint of size ${cp.treeSize} has an invalid signature`);
      }
      if (range.root().toString('hex') !== cp.rootHash) {
        return fail(vouched + 1, `checkpoint of size ${cp.treeSize} does not match the entries' root`);
      }
      vouched = size;
      verifiedCheckpoints++;
    }
  };

  const atStart = await checkCheckpointsAt(from.size);
  if (atStart) return atStart;

  for (;;) {
    const rows = await q.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE seq >= $1 ORDER BY seq LIMIT $2`,
      [expected, PAGE],
    );
    if (rows.length === 0) break;
    const first = rows[0]?.seq ?? expected;
    // Stored leaves are checked entry by entry: an entry rewritten together with its own hash still
    // differs from the leaf the append-only tree recorded when it was sequenced.
    const leafRows = await q.query<{ idx: number; hash: string }>(
      'SELECT idx, hash FROM ledger_tree WHERE level = 0 AND idx >= $1 AND idx < $2',
      [first - 1, first - 1 + rows.length],
    );
    const storedLeaves = new Map(leafRows.map((r) => [r.idx, r.hash]));
    const completed: Array<{ level: number; idx: number; hash: string }> = [];
    for (const row of rows) {
      if (row.seq !== expected) return fail(expected, `entry ${expected} is missing`);
      const entry = entryFromRow(row);
      if (entry.prevHash !== prevHash) {
        return fail(expected, `entry ${expected} does not link to its predecessor`);
      }
      const canonical = canonicalEntry(entry);
      if (chainHash(prevHash, canonical) !== entry.hash) {
        return fail(expected, `entry ${expected} does not match its hash`);
      }
      const leaf = leafHash(canonical);
      if (storedLeaves.get(expected - 1) !== leaf.toString('hex')) {
        return fail(expected, `entry ${expected} differs from its Merkle leaf`);
      }
      for (const n of range.append(leaf)) {
        if (n.level > 0) completed.push({ level: n.level, idx: n.idx, hash: n.hash.toString('hex') });
      }
      prevHash = entry.hash;
      const bad = await checkCheckpointsAt(expected);
      if (bad) return bad;
      expected++;
    }
    const stored = await fetchNodes(q, completed);
    for (const n of completed) {
      let hash: string;
      try {
        hash = stored(n.level, n.idx).toString('hex');
      } catch {
        return fail(n.idx * 2 ** n.level + 1, `the Merkle tree node ${n.level}/${n.idx} is missing`);
      }
      if (hash !== n.hash) {
        return fail(n.idx * 2 ** n.level + 1, `the Merkle tree node ${n.level}/${n.idx} is wrong`);
      }
    }
  }
  const size = expected - 1;
  if (cpPage.length === 0) await nextCheckpoints();
  const beyond = cpPage[0];
  if (beyond) return fail(size + 1, `checkpoint of size ${beyond.treeSize} is beyond the last entry ${size}`);
  return {
    result: { ok: true, entries: size, head, checkpoint, checkpointsVerified: verifiedCheckpoints },
    state: { size, prevHash, range, lastCheckpointId: cpCursor, checkpointsVerified: verifiedCheckpoints },
  };
}
