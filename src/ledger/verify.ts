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
  /** Entries read and checked. */
  entries: number;
  head: { seq: number; hash: string } | null;
  checkpoint: Checkpoint | null;
  checkpointsVerified: number;
  /** The first seq that is changed, missing or out of order (absent when ok). */
  firstBadSeq?: number;
  /** What failed, naming the seq or checkpoint; no entry content. */
  reason?: string;
}

const PAGE = 2000;

/**
 * Recomputes everything from the entries alone: each entry's hash over its stored content, the chain
 * links, gapless seq from 1, the Merkle subtrees stored for proofs, and the root and Ed25519 signature
 * of every checkpoint. Streams in pages, so memory stays O(page + log n).
 */
export async function verifyLedgerWith(
  db: Db,
  opts: { gatewayId: string; signingKey: PublicSigningKey },
): Promise<VerifyResult> {
  // One snapshot: entries and checkpoints appended while we read must not look like tampering.
  return db.transaction(async (q) => {
    if (db.backend === 'postgres') {
      await q.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    }
    return verifySnapshot(q, opts);
  });
}

async function verifySnapshot(
  q: Queryable,
  opts: { gatewayId: string; signingKey: PublicSigningKey },
): Promise<VerifyResult> {
  const head = await readHead(q);
  const checkpoint = await latestCheckpoint(q);
  const range = new CompactRange(0, () => EMPTY_ROOT);
  let expected = 1;
  let prevHash = GENESIS_PREV_HASH;
  let verifiedCheckpoints = 0;
  /** The tree size up to which a signed checkpoint has vouched: bad data beyond it is named from here. */
  let vouched = 0;
  let cpCursor = 0;
  let cpPage: Array<Checkpoint & { id: number }> = [];
  let cpDone = false;

  const fail = (firstBadSeq: number, reason: string): VerifyResult => ({
    ok: false,
    entries: expected - 1,
    head,
    checkpoint,
    checkpointsVerified: verifiedCheckpoints,
    firstBadSeq,
    reason,
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
  const checkCheckpointsAt = async (size: number): Promise<VerifyResult | null> => {
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

  const atZero = await checkCheckpointsAt(0);
  if (atZero) return atZero;

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
  return { ok: true, entries: size, head, checkpoint, checkpointsVerified: verifiedCheckpoints };
}
