import type { Migration } from './index.js';

/**
 * Flags (contract section 7): the flag index. A flag holds no plaintext identifier of its subject: it is
 * found by keyed hashes (HMAC-SHA-256 with the gateway's subject-hashing secret) of the subject's
 * normalised NHS number, PNC id, name + date of birth and name + expected delivery date, each under a
 * tag of the index's own (docs/flags.md). `subject_key` is the hash of the strongest of them: one live
 * flag per publishing agency + flag type + subject. An ended flag stays, with `ended_at`, as history;
 * the live-only partial indexes keep it out of every search. `revision` counts publications (1: new).
 */
export const flagsMigration: Migration = {
  id: 8,
  name: 'flags',
  sql: `
CREATE TABLE flags (
  id uuid PRIMARY KEY,
  agency_id text NOT NULL,
  agency_kind text NOT NULL,
  flag text NOT NULL,
  subject_type text NOT NULL CHECK (subject_type IN ('child', 'adult', 'unborn')),
  subject_key text NOT NULL,
  nhs_hash text,
  pnc_hash text,
  name_dob_hash text,
  name_edd_hash text,
  details jsonb,
  contact jsonb NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  revision integer NOT NULL DEFAULT 1,
  published_at timestamptz NOT NULL,
  published_by_sub text NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by_sub text NOT NULL,
  ended_at timestamptz,
  ended_by_sub text,
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE UNIQUE INDEX flags_live_key ON flags (agency_id, flag, subject_key) WHERE ended_at IS NULL;
CREATE INDEX flags_live_nhs ON flags (nhs_hash) WHERE ended_at IS NULL AND nhs_hash IS NOT NULL;
CREATE INDEX flags_live_pnc ON flags (pnc_hash) WHERE ended_at IS NULL AND pnc_hash IS NOT NULL;
CREATE INDEX flags_live_name_dob ON flags (name_dob_hash) WHERE ended_at IS NULL AND name_dob_hash IS NOT NULL;
CREATE INDEX flags_live_name_edd ON flags (name_edd_hash) WHERE ended_at IS NULL AND name_edd_hash IS NOT NULL;
`,
};
