import type { Migration } from './index.js';

/**
 * A ledger entry may carry the practitioner's stated reason (a decline: contract section 6 asks that the
 * decision not to share be ledgered with its reason, golden rule 7). Part of the canonical entry when
 * present, so it is covered by the hash chain and the tree like every other field.
 */
export const ledgerReasonMigration: Migration = {
  id: 4,
  name: 'ledger entry reason',
  sql: 'ALTER TABLE ledger_entries ADD COLUMN reason text;',
};
