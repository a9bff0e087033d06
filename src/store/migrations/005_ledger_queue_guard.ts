import type { Migration } from './index.js';

/**
 * The queue holds committed entries until the sequencer chains them, so it is part of the record too: an
 * entry in it may not be changed, and may leave it only once it stands in the ledger under its own id.
 */
export const ledgerQueueGuardMigration: Migration = {
  id: 5,
  name: 'ledger queue guard',
  sql: `
CREATE FUNCTION ledger_queue_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM ledger_entries WHERE id = OLD.entry_id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'ledger_queue: % of an entry not yet in the ledger refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;
CREATE TRIGGER ledger_queue_guard BEFORE UPDATE OR DELETE ON ledger_queue
  FOR EACH ROW EXECUTE FUNCTION ledger_queue_guard();
CREATE TRIGGER ledger_queue_no_truncate BEFORE TRUNCATE ON ledger_queue
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
`,
};
