import { openPostgres } from '../../src/store/postgres.js';
import type { Check } from './verdict.js';

/** The ledger action each journey must write for every request it answered. */
export const JOURNEY_ACTIONS: Readonly<Record<string, string>> = {
  flag_search: 'flag.searched',
  concern_submit: 'concern.submitted',
  request_create: 'request.created',
  response_release: 'response.released',
  ledgered_read: 'disclosure.viewed',
};

/**
 * Every request a journey answered must have its ledger entry (more is fine: set-up, the smoke test and
 * the top-ups write entries too). A shortfall means the bench measured something that did not record
 * what it disclosed: its throughput would be no figure for a ledgered journey.
 */
export function ledgerChecks(
  names: Readonly<Record<string, string>>,
  answered: Readonly<Record<string, number>>,
  entries: Readonly<Record<string, number>>,
): Check[] {
  return Object.entries(answered).map(([key, count]) => {
    const action = JOURNEY_ACTIONS[key] ?? key;
    const found = entries[action] ?? 0;
    return {
      what: `${names[key] ?? key}: ${action} entries / answered`,
      measured: count > 0 ? found / count : Number.NaN,
      target: '>= 1',
      verdict: count > 0 && found >= count ? 'PASS' : 'MISS',
      ...(found < count ? { note: `${count - found} answered request(s) without an entry` } : {}),
    };
  });
}

/**
 * The ledger's entries per action, once the sequencer has chained everything queued (it runs in the
 * gateway; the bench only waits for the queue to empty, up to `waitMs`).
 */
export async function ledgerEntries(
  databaseUrl: string,
  waitMs: number,
): Promise<{ drained: boolean; entries: Record<string, number> }> {
  const db = openPostgres(databaseUrl, { max: 1 });
  try {
    const end = Date.now() + waitMs;
    let drained = false;
    while (!drained && Date.now() < end) {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_queue');
      drained = row?.n === 0;
      if (!drained) await new Promise((r) => setTimeout(r, 200));
    }
    const rows = await db.query<{ action: string; n: number }>(
      'SELECT action, count(*)::int AS n FROM ledger_entries GROUP BY action',
    );
    return { drained, entries: Object.fromEntries(rows.map((r) => [r.action, r.n])) };
  } finally {
    await db.close();
  }
}

/**
 * Waits (up to `waitMs`) until the gateway's background work has caught up: the ledger queue chained and
 * the outbox relayed. A saturation run leaves thousands of both behind; measured on top of that catch-up,
 * the fixed-rate run's tail would be the previous run's, not its own. Returns whether it caught up.
 */
export async function waitForBackgroundWork(databaseUrl: string, waitMs: number): Promise<boolean> {
  const db = openPostgres(databaseUrl, { max: 1 });
  try {
    const end = Date.now() + waitMs;
    for (;;) {
      const [row] = await db.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM ledger_queue)::int
              + (SELECT count(*) FROM outbox WHERE relayed_at IS NULL)::int AS n`,
      );
      if (row?.n === 0) return true;
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await db.close();
  }
}
