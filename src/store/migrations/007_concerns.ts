import type { Migration } from './index.js';

/**
 * Safeguarding concerns (contract section 5). Each free text (the summary, a consent reason, the feedback
 * to the referrer, the CSC's note) is kept here with the salt of the commitment the ledger holds in its
 * place, so that an auditor can read it and prove it is the text committed. `status` is the stored state;
 * "overdue" is derived on read from acknowledge_by. overdue_notified_at marks the once-only event.
 */
export const concernsMigration: Migration = {
  id: 7,
  name: 'concerns',
  sql: `
CREATE TABLE concerns (
  id uuid PRIMARY KEY,
  from_agency text NOT NULL,
  from_sub text NOT NULL,
  from_role text NOT NULL,
  from_name text NOT NULL,
  to_agency text NOT NULL,
  child jsonb NOT NULL,
  household_members jsonb,
  categories text[] NOT NULL,
  summary text NOT NULL,
  summary_salt text NOT NULL,
  urgency text NOT NULL CHECK (urgency IN ('immediate', 'standard')),
  consent_status text NOT NULL CHECK (consent_status IN ('given', 'refused', 'not_sought')),
  consent_reason text,
  consent_reason_salt text,
  referrer_contact jsonb NOT NULL,
  case_reference text,
  submitted_at timestamptz NOT NULL,
  acknowledge_by timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('submitted', 'decided')),
  outcome text,
  feedback text,
  feedback_salt text,
  note text,
  note_salt text,
  decided_at timestamptz,
  decided_by_sub text,
  decided_by_role text,
  decided_by_name text,
  overdue_notified_at timestamptz,
  CHECK ((consent_reason IS NULL) = (consent_reason_salt IS NULL)),
  CHECK ((note IS NULL) = (note_salt IS NULL)),
  CHECK (status = 'submitted' OR (outcome IS NOT NULL AND feedback IS NOT NULL AND feedback_salt IS NOT NULL
    AND decided_at IS NOT NULL AND decided_by_sub IS NOT NULL AND decided_by_role IS NOT NULL
    AND decided_by_name IS NOT NULL))
);
CREATE INDEX concerns_from ON concerns (from_agency, submitted_at);
CREATE INDEX concerns_to ON concerns (to_agency, status, acknowledge_by);
CREATE INDEX concerns_due ON concerns (acknowledge_by)
  WHERE status = 'submitted' AND overdue_notified_at IS NULL;
`,
};
