import { ledgerMigration } from './001_ledger.js';
import { consentMigration } from './002_consent.js';
import { requestsMigration } from './003_requests.js';
import { ledgerReasonMigration } from './004_ledger_reason.js';
import { ledgerQueueGuardMigration } from './005_ledger_queue_guard.js';
import { ledgerPartiesInboxMigration } from './006_ledger_parties_inbox.js';
import { concernsMigration } from './007_concerns.js';
import { flagsMigration } from './008_flags.js';
import { notificationsMigration } from './009_notifications.js';
import { outboxSettledMigration } from './010_outbox_settled.js';

/** A numbered schema change. Ids run 1, 2, 3… without gaps; a released migration is never edited. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  ledgerMigration,
  consentMigration,
  requestsMigration,
  ledgerReasonMigration,
  ledgerQueueGuardMigration,
  ledgerPartiesInboxMigration,
  concernsMigration,
  flagsMigration,
  notificationsMigration,
  outboxSettledMigration,
];
