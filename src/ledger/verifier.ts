import type { Db } from '../store/db.js';
import { type AuditCut, auditCut } from './queries.js';
import {
  anchorHolds,
  genesisState,
  inSnapshot,
  type VerifiedState,
  type VerifyOptions,
  type VerifyResult,
  verifyFrom,
} from './verify.js';

export interface IncrementalResult extends VerifyResult, AuditCut {
  /** Entries read and checked by this call (all of them when it was not incremental). */
  checked: number;
  /** Whether this call went on from a point an earlier call had verified. */
  incremental: boolean;
}

export interface Verifier {
  /**
   * Verifies what was added since the last verified point, or everything with `full` (and whenever
   * there is no verified point: the first call, after a failure of a full check, when the entry last
   * verified has changed). `asOf` is the head it read; `pending`, how many entries queued up to
   * `upToQueueId` (Ledger.catchUp) were not yet chained then.
   */
  verify(opts?: { full?: boolean; upToQueueId?: number }): Promise<IncrementalResult>;
}

/**
 * Incremental verification for a running gateway (GET /v1/audit/verify), kept in this process's
 * memory. What it can see: every entry and checkpoint added since the last verified point, checked in
 * full against that point's hash and tree edge, and a change to the entry that point ended on. What it
 * cannot see: a change to an older entry made after that entry was verified (which takes switching off
 * the append-only triggers as a superuser); the full check finds that, and `sgw audit verify` always
 * runs it. Calls are serialised, so that two never race to move the point.
 */
export function createVerifier(db: Db, opts: VerifyOptions): Verifier {
  let verified: VerifiedState | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const run = async (full: boolean, upToQueueId: number): Promise<IncrementalResult> =>
    inSnapshot(db, async (q) => {
      const from = !full && verified && (await anchorHolds(q, verified)) ? verified : undefined;
      const start = from ?? genesisState();
      const { result, state } = await verifyFrom(q, opts, start);
      if (state) verified = state;
      // A failed full check leaves no point to go on from: later calls check everything again.
      else if (!from) verified = undefined;
      return {
        ...result,
        ...(await auditCut(q, upToQueueId)),
        checked: Math.max(0, result.entries - start.size),
        incremental: from !== undefined,
      };
    });

  return {
    verify(options = {}) {
      const next = queue.then(() => run(options.full === true, options.upToQueueId ?? 0));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
