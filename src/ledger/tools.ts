import type { Db } from '../store/db.js';
import { type Checkpoint, checkpointSignatureValid, loadPublicKey, loadSigningKey } from './checkpoint.js';
import { ENTRY_COLUMNS, type EntryRow, entryFromRow, type LedgerEntry } from './entry.js';
import {
  checkpointCovering,
  getEntry,
  type InclusionProof,
  inclusionProof,
  listKeys,
  publicKeyFor,
  treeSize,
} from './queries.js';
import { latestCheckpoint, lockSequencer, maybeCheckpoint } from './sequencer.js';
import { type VerifyResult, verifyLedgerWith } from './verify.js';

/** What `sgw audit verify` runs: needs only the public key, `<certsDir>/ledger-signing.pub`. */
export async function verifyLedger(
  db: Db,
  opts: { certsDir: string; gatewayId: string },
): Promise<VerifyResult> {
  return verifyLedgerWith(db, { gatewayId: opts.gatewayId, signingKey: loadPublicKey(opts.certsDir) });
}

export interface ExportRange {
  /** A seq (all digits, inclusive) or an RFC 3339 time (inclusive). */
  from?: string;
  /** A seq (all digits, inclusive) or an RFC 3339 time (exclusive). */
  to?: string;
}

const SEQ = /^\d+$/;

/** Writes the entries, in seq order, one JSON object per line; returns how many. */
export async function exportLedger(
  db: Db,
  range: ExportRange,
  write: (line: string) => void | Promise<void>,
): Promise<number> {
  const where = ['seq > $1'];
  const params: unknown[] = [0];
  const bound = (value: string | undefined, seqOp: string, timeOp: string) => {
    if (value === undefined) return;
    if (SEQ.test(value)) {
      params.push(Number(value));
      where.push(`seq ${seqOp} $${params.length}`);
    } else {
      if (Number.isNaN(Date.parse(value))) throw new RangeError(`not a seq or an RFC 3339 time: ${value}`);
      params.push(value);
      where.push(`at ${timeOp} $${params.length}::timestamptz`);
    }
  };
  bound(range.from, '>=', '>=');
  bound(range.to, '<=', '<');
  let count = 0;
  for (;;) {
    const rows = await db.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE ${where.join(' AND ')} ORDER BY seq LIMIT 1000`,
      params,
    );
    for (const r of rows) await write(`${JSON.stringify(entryFromRow(r))}\n`);
    count += rows.length;
    const last = rows.at(-1);
    if (!last || rows.length < 1000) return count;
    params[0] = last.seq;
  }
}

/**
 * Refuses to go on when the ledger's latest checkpoint does not verify under this gateway id (the id is
 * part of the signed text): the CLI was run with another SGW_GATEWAY_ID than the gateway's.
 */
async function assertSignedAs(db: Db, opts: { certsDir: string; gatewayId: string }): Promise<void> {
  const latest = await latestCheckpoint(db);
  if (!latest) return;
  const key = await publicKeyFor(db, latest.keyId, loadPublicKey(opts.certsDir));
  if (key && !checkpointSignatureValid(latest, opts.gatewayId, key)) {
    throw new Error(
      `the ledger's checkpoints are not signed as gateway "${opts.gatewayId}": set SGW_GATEWAY_ID to the gateway's own`,
    );
  }
}

export interface Receipt {
  format: 'sgw-ledger-receipt/1';
  gatewayId: string;
  entry: LedgerEntry;
  inclusion: InclusionProof;
  checkpoint: Checkpoint;
  publicKeyPem: string;
}

/**
 * A self-contained receipt for one entry: the entry, its inclusion proof in the latest checkpoint that
 * holds it (signed on the spot with the local signing key when none does yet), and the public key.
 * `scripts/verify-receipt.mjs` checks it offline. Returns null for an unknown seq.
 */
export async function proveEntry(
  db: Db,
  seq: number,
  opts: { certsDir: string; gatewayId: string },
): Promise<Receipt | null> {
  const entry = await getEntry(db, seq);
  if (!entry) return null;
  // Signing under a wrong gateway id would put a checkpoint no one can verify into the ledger for good.
  await assertSignedAs(db, opts);
  let checkpoint = await checkpointCovering(db, seq);
  if (!checkpoint) {
    const key = loadSigningKey(opts.certsDir);
    await db.transaction(async (tx) => {
      await lockSequencer(tx, true);
      await maybeCheckpoint(tx, key, opts.gatewayId, 0);
    });
    checkpoint = await checkpointCovering(db, seq);
    if (!checkpoint) throw new Error(`no checkpoint covers entry ${seq}`);
  }
  if (checkpoint.treeSize > (await treeSize(db))) throw new Error('the checkpoint is beyond the ledger head');
  const inclusion = await inclusionProof(db, seq, checkpoint.treeSize);
  const keys = await listKeys(db, loadPublicKey(opts.certsDir));
  const key = keys.find((k) => k.keyId === checkpoint.keyId);
  if (!key) throw new Error(`the key ${checkpoint.keyId} that signed the checkpoint is unknown`);
  return {
    format: 'sgw-ledger-receipt/1',
    gatewayId: opts.gatewayId,
    entry,
    inclusion,
    checkpoint,
    publicKeyPem: key.publicKeyPem,
  };
}
