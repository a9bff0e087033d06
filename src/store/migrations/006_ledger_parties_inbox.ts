import type { Migration } from './index.js';

/**
 * Entries gain what the journeys after requests need, all optional and all inside the hash chain:
 * `counterparts` (every party of a multi-agency record besides the actor), the ids of the consent
 * record, concern and flag an entry is about, an `outcome` code (a concern's decision), and `commitments`: salted SHA-256 commitments of free text
 * that stays in the record, never in the ledger (docs/ledger.md). Earlier entries keep what they were
 * written with, `reason` included.
 *
 * The free texts of requests (a decline's reason, a withholding's reason) keep their salts beside them.
 *
 * The inbox: one item per event addressed to an agency, written with the outbox row in the same
 * transaction (contract section 12), acknowledged by the agency; and items that are no event to deliver
 * (a dead-lettered webhook).
 */
export const ledgerPartiesInboxMigration: Migration = {
  id: 6,
  name: 'ledger parties, commitments and ids; request text salts; inbox',
  sql: `
ALTER TABLE ledger_entries
  ADD COLUMN counterparts text[],
  ADD COLUMN consent_id text,
  ADD COLUMN consent_ids text[],
  ADD COLUMN concern_id text,
  ADD COLUMN flag_id text,
  ADD COLUMN outcome text,
  ADD COLUMN commitments jsonb;
CREATE INDEX ledger_entries_counterparts ON ledger_entries USING gin (counterparts);

-- The salt of a decline's reason, committed to in its ledger entry; a withholding's salt is kept with its
-- reason in the withheld list.
ALTER TABLE info_requests ADD COLUMN decline_reason_salt text;
-- The consent record that decided the request at creation, and what the requester was told about it.
ALTER TABLE info_requests ADD COLUMN consent_record_id text, ADD COLUMN consent_notice text;

CREATE TABLE inbox_items (
  seq bigserial PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  agency_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('concern', 'request', 'event')),
  ref text NOT NULL,
  type text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  due_by timestamptz,
  acked_at timestamptz,
  acked_by_sub text
);
CREATE INDEX inbox_items_agency ON inbox_items (agency_id, seq);
CREATE INDEX inbox_items_open ON inbox_items (agency_id, seq) WHERE acked_at IS NULL;
`,
};
