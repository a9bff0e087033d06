import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { type Db, migrate } from '../../src/store/index.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * Migration 10 on a deployment that already relayed events: rows relayed before it count as settled (their
 * jobs may be long gone from Redis, and the reconciler would otherwise send old events a second time),
 * and rows not yet relayed stay for the relay.
 */
for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`${backend}: rows relayed before migration 10 are settled, the others are not`, async (t) => {
    let db: Db;
    if (backend === 'postgres') {
      const database = await createTestDatabase('sgw_mig10');
      db = openPostgres(database.url);
      t.teardown(async () => {
        await db.close();
        await database.drop();
      });
    } else {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-mig10-'));
      db = await openPglite(dir);
      t.teardown(async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      });
    }
    const before = MIGRATIONS.filter((m) => m.id < 10);
    t.same(
      await migrate(db, before),
      before.map((m) => m.id),
    );

    const relayed = randomUUID();
    const waiting = randomUUID();
    await db.query(
      `INSERT INTO outbox (agency_id, event_id, type, data, relayed_at)
       VALUES ('gp-a', $1, 'request.received', '{}', now() - interval '2 days'),
              ('gp-a', $2, 'request.received', '{}', NULL)`,
      [relayed, waiting],
    );
    t.same(
      await migrate(db),
      MIGRATIONS.filter((m) => m.id >= 10).map((m) => m.id),
    );

    const rows = await db.query<{ event_id: string; settled: boolean; same: boolean }>(
      `SELECT event_id, settled_at IS NOT NULL AS settled, settled_at IS NOT DISTINCT FROM relayed_at AS same
         FROM outbox ORDER BY id`,
    );
    t.same(rows, [
      { event_id: relayed, settled: true, same: true },
      { event_id: waiting, settled: false, same: true },
    ]);
  });
}
