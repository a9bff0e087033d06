import type { Migration } from './index.js';

/**
 * Consent records (contract section 8). Identifiers are kept in the record (this is the record, not the
 * ledger) so that a consent can be found by NHS number or PNC id; the ledger holds only keyed hashes.
 */
export const consentMigration: Migration = {
  id: 2,
  name: 'consent',
  sql: `
CREATE TABLE consents (
  id uuid PRIMARY KEY,
  nhs_number text,
  pnc_id text,
  subject jsonb NOT NULL,
  given_by jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('given', 'refused')),
  purposes text[] NOT NULL,
  agencies text[],
  categories text[],
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  evidence text NOT NULL,
  recorded_by_agency text NOT NULL,
  recorded_by_sub text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  withdrawn_at timestamptz,
  withdrawn_reason text,
  withdrawn_by_agency text,
  CHECK (nhs_number IS NOT NULL OR pnc_id IS NOT NULL)
);
CREATE INDEX consents_nhs ON consents (nhs_number) WHERE nhs_number IS NOT NULL;
CREATE INDEX consents_pnc ON consents (pnc_id) WHERE pnc_id IS NOT NULL;
`,
};
