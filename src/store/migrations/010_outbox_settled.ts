import type { Migration } from './index.js';

/**
 * The queue's part of an event, settled (docs/notifications.md "Redis loses its data"): `settled_at` says
 * the queue is done with a relayed row (delivered, dead-lettered, or relayed without a job). A relayed
 * row not yet settled is one whose job only Redis holds; the reconciler checks that Redis still has it
 * and, when Redis lost it, hands the row to the relay again. Rows relayed before this migration are taken
 * as settled: their jobs may be long gone from Redis, and relaying them again would send old events twice.
 */
export const outboxSettledMigration: Migration = {
  id: 10,
  name: 'outbox rows settled by the queue',
  sql: `
ALTER TABLE outbox ADD COLUMN settled_at timestamptz;
UPDATE outbox SET settled_at = relayed_at WHERE relayed_at IS NOT NULL;
CREATE INDEX outbox_unsettled ON outbox (id) WHERE relayed_at IS NOT NULL AND settled_at IS NULL;
`,
};
