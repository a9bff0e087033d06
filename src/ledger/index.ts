/**
 * The ledger: every disclosure and refusal, hash-chained, in an RFC 9162 Merkle tree with signed
 * checkpoints, written in the caller's own transaction together with the outbox events. See docs/ledger.md.
 */
export {
  type AppendResult,
  appendRecord,
  type InboxItemInput,
  type InboxKind,
  type InboxPlacement,
  type LedgerEntryInput,
  LedgerInputError,
  LedgerWriteError,
  type OutboxEventInput,
  recordedTransaction,
  recordInboxItem,
} from './append.js';
export { type Checkpoint, checkpointText, keyIdOf } from './checkpoint.js';
export { type Committed, commitmentMatches, commitmentOf, commitText } from './commitment.js';
export type { LedgerEntry } from './entry.js';
export { registerLedgerMetrics } from './metrics.js';
export type { ConsistencyProof, InclusionProof, PublishedKey } from './queries.js';
export { type LedgerRoutesOptions, ledgerRoutes } from './routes.js';
export {
  createLedger,
  type Ledger,
  type LedgerHealth,
  type LedgerLogger,
  type LedgerOptions,
} from './service.js';
export {
  loadSubjectKey,
  normalisedIdentifiers,
  type SubjectIdentifiers,
  setSubjectKey,
  subjectRefs,
} from './subject.js';
export type { HeldTexts, TextSource } from './texts-route.js';
export { type ExportRange, exportLedger, proveEntry, type Receipt, verifyLedger } from './tools.js';
export { createVerifier, type IncrementalResult, type Verifier } from './verifier.js';
export type { VerifyResult } from './verify.js';
