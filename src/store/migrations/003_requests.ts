import type { Migration } from './index.js';

/**
 * Information requests (contract section 6). The record keeps what the gateway needs to re-decide at
 * release (the requester's kind and role, the consent asked for, the override) and only the filtered
 * answer: a holder's unfiltered payload is never stored. `status` is the stored state; "overdue" is
 * derived on read from respond_by.
 */
export const requestsMigration: Migration = {
  id: 3,
  name: 'information requests',
  sql: `
CREATE TABLE info_requests (
  id uuid PRIMARY KEY,
  from_agency text NOT NULL,
  from_kind text NOT NULL,
  from_sub text NOT NULL,
  from_role text NOT NULL,
  to_agency text NOT NULL,
  to_kind text NOT NULL,
  purpose text NOT NULL,
  subject jsonb NOT NULL,
  related_children jsonb,
  categories text[] NOT NULL,
  granted text[] NOT NULL,
  refused jsonb NOT NULL,
  lawful_basis text[] NOT NULL,
  consent jsonb NOT NULL,
  consent_claim jsonb,
  override jsonb,
  justification text NOT NULL,
  case_reference text,
  respond_by timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('awaiting_response', 'responded', 'declined')),
  policy_version text NOT NULL,
  created_at timestamptz NOT NULL,
  responded_at timestamptz,
  responded_by_sub text,
  response_data jsonb,
  released jsonb,
  withheld_by_policy jsonb,
  withheld jsonb,
  declined_at timestamptz,
  declined_by_sub text,
  decline_reason text,
  overdue_notified_at timestamptz
);
CREATE INDEX info_requests_from ON info_requests (from_agency, created_at);
CREATE INDEX info_requests_to ON info_requests (to_agency, status, respond_by);
CREATE INDEX info_requests_due ON info_requests (respond_by)
  WHERE status = 'awaiting_response' AND overdue_notified_at IS NULL;
`,
};
