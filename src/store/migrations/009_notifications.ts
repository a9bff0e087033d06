import type { Migration } from './index.js';

/**
 * Notifications (docs/notifications.md). The outbox keeps its rows as the record of what was sent to
 * whom; `relayed_at` says the relay has handed a row to the queue (BullMQ), and the partial index keeps
 * the relay's look-up cheap however long the outbox grows; `replays` counts the operator's replays of a
 * dead letter (each replay is a new job, docs/notifications.md). Delivery state lives in the queue, so the
 * columns of a delivery loop in the database (status, attempts, next_attempt_at, delivered_at,
 * last_error), never used, go.
 *
 * Dead letters: one row per event the webhook gave up on after its last try; at most one open (not yet
 * replayed) per event, so a retried dead-lettering cannot write two.
 */
export const notificationsMigration: Migration = {
  id: 9,
  name: 'outbox relay and webhook dead letters',
  sql: `
DROP INDEX outbox_pending;
ALTER TABLE outbox
  DROP COLUMN status,
  DROP COLUMN attempts,
  DROP COLUMN next_attempt_at,
  DROP COLUMN delivered_at,
  DROP COLUMN last_error,
  ADD COLUMN relayed_at timestamptz,
  ADD COLUMN replays integer NOT NULL DEFAULT 0;
CREATE INDEX outbox_unrelayed ON outbox (id) WHERE relayed_at IS NULL;

CREATE TABLE webhook_dead_letters (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL REFERENCES outbox (event_id),
  agency_id text NOT NULL,
  type text NOT NULL,
  attempts integer NOT NULL CHECK (attempts >= 1),
  -- A code (timeout, status_503, address_refused…), never a receiver's body.
  last_error text NOT NULL,
  dead_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  inbox_item_id uuid NOT NULL,
  replayed_at timestamptz
);
CREATE UNIQUE INDEX webhook_dead_letters_open ON webhook_dead_letters (event_id) WHERE replayed_at IS NULL;
CREATE INDEX webhook_dead_letters_agency ON webhook_dead_letters (agency_id, id);
`,
};
