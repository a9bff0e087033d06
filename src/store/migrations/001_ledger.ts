import type { Migration } from './index.js';

/**
 * The record: the writers' queue, the append-only ledger, its Merkle tree, signed checkpoints, the keys
 * that signed them, and the outbox. Append-only is enforced here, in the database, so that no code path
 * (ours or an operator's psql session without superuser rights) can rewrite history unseen.
 */
export const ledgerMigration: Migration = {
  id: 1,
  name: 'ledger',
  sql: `
CREATE TABLE ledger_queue (
  id bigserial PRIMARY KEY,
  entry_id uuid NOT NULL UNIQUE,
  at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  body jsonb NOT NULL
);

CREATE TABLE ledger_entries (
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  id uuid NOT NULL UNIQUE,
  at timestamptz NOT NULL,
  action text NOT NULL,
  actor_agency text NOT NULL,
  actor_sub text NOT NULL,
  actor_role text NOT NULL,
  counterpart text,
  request_id text,
  case_reference text,
  subject_ref text,
  subject_refs text[] NOT NULL DEFAULT '{}',
  purpose text,
  lawful_basis text[],
  consent text,
  decision text NOT NULL CHECK (decision IN ('permit', 'deny')),
  rule_ids text[] NOT NULL,
  policy_version text NOT NULL,
  fields jsonb,
  categories text[],
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX ledger_entries_actor_agency ON ledger_entries (actor_agency, seq);
CREATE INDEX ledger_entries_counterpart ON ledger_entries (counterpart, seq);
CREATE INDEX ledger_entries_subject_refs ON ledger_entries USING gin (subject_refs);

-- Perfect subtrees of the RFC 9162 tree: node (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
CREATE TABLE ledger_tree (
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE ledger_keys (
  key_id text PRIMARY KEY,
  public_key_pem text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_checkpoints (
  id bigserial PRIMARY KEY,
  tree_size bigint NOT NULL CHECK (tree_size >= 0),
  root_hash text NOT NULL,
  -- Text, not timestamptz: the signature covers these exact characters.
  timestamp text NOT NULL,
  key_id text NOT NULL REFERENCES ledger_keys (key_id),
  signature text NOT NULL
);
CREATE INDEX ledger_checkpoints_tree_size ON ledger_checkpoints (tree_size);

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_tree_append_only BEFORE UPDATE OR DELETE ON ledger_tree
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_tree_no_truncate BEFORE TRUNCATE ON ledger_tree
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_keys_append_only BEFORE UPDATE OR DELETE ON ledger_keys
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_keys_no_truncate BEFORE TRUNCATE ON ledger_keys
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  agency_id text NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  data jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  last_error text
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_agency ON outbox (agency_id, id);
`,
};
