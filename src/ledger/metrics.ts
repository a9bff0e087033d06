import { Gauge, type Registry } from 'prom-client';
import { readOrUnknown } from '../http/metrics.js';
import type { Queryable } from '../store/db.js';

/**
 * Ledger metrics: its size, the age of its latest checkpoint, and its entries by action and decision
 * (permit / deny: the decisions by outcome). The tally is kept from the last sequence number seen, so a
 * scrape reads only the entries added since the one before.
 */
export function registerLedgerMetrics(registry: Registry, db: Queryable): void {
  const registers = [registry];
  const tally = new Map<string, { action: string; decision: string; n: number }>();
  let seen = 0;
  const catchUp = async () => {
    const rows = await db.query<{ action: string; decision: string; n: number; last: number }>(
      `SELECT action, decision, count(*)::int AS n, max(seq) AS last
         FROM ledger_entries WHERE seq > $1 GROUP BY action, decision`,
      [seen],
    );
    for (const r of rows) {
      const key = `${r.action}\n${r.decision}`;
      const t = tally.get(key) ?? { action: r.action, decision: r.decision, n: 0 };
      t.n += r.n;
      tally.set(key, t);
      seen = Math.max(seen, r.last);
    }
  };
  new Gauge({
    name: 'sgw_ledger_entries',
    help: 'Ledger entries by action and decision',
    labelNames: ['action', 'decision'] as const,
    registers,
    collect: readOrUnknown<Gauge<'action' | 'decision'>>(
      async (gauge) => {
        await catchUp();
        for (const t of tally.values()) gauge.set({ action: t.action, decision: t.decision }, t.n);
      },
      { labelled: true },
    ),
  });
  new Gauge({
    name: 'sgw_ledger_size',
    help: 'Entries in the ledger (its tree size)',
    registers,
    collect: readOrUnknown<Gauge>(async (gauge) => {
      const [row] = await db.query<{ n: number | null }>('SELECT max(seq) AS n FROM ledger_entries');
      gauge.set(row?.n ?? 0);
    }),
  });
  new Gauge({
    name: 'sgw_ledger_checkpoint_age_seconds',
    help: 'Age of the latest signed checkpoint',
    registers,
    collect: readOrUnknown<Gauge>(async (gauge) => {
      const [row] = await db.query<{ timestamp: string }>(
        'SELECT timestamp FROM ledger_checkpoints ORDER BY id DESC LIMIT 1',
      );
      if (row) gauge.set(Math.max(0, (Date.now() - Date.parse(row.timestamp)) / 1000));
    }),
  });
}
