import { randomUUID } from 'node:crypto';
import t from 'tap';
import { outboxBacklog } from '../../src/notify/index.js';
import type { RelayedEvent } from '../../src/notify/queue.js';
import { startRelay } from '../../src/notify/relay.js';
import type { Db } from '../../src/store/index.js';
import { openTestStore } from '../helpers/db.js';

/**
 * The relay alone, against a real database and a queue that records what it is handed: outbox order
 * across batches, rows marked only after the queue acknowledged them, nothing taken while Redis is
 * down, and a failed or hung enqueue leaving the rows for the next round. Both backends.
 */

const silent = { info() {}, error() {} };

async function addEvents(db: Db, agencies: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const agency of agencies) {
    const id = randomUUID();
    ids.push(id);
    await db.query(
      `INSERT INTO outbox (agency_id, event_id, type, data) VALUES ($1, $2, 'test.event', '{"n":1}')`,
      [agency, id],
    );
  }
  return ids;
}

const unrelayed = async (db: Db) =>
  (
    await db.query<{ event_id: string }>('SELECT event_id FROM outbox WHERE relayed_at IS NULL ORDER BY id')
  ).map((r) => r.event_id);

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`${backend}: order, marking after the acknowledgement, and failures`, async (t) => {
    const db = await openTestStore(t, backend);
    const handed: RelayedEvent[][] = [];
    const skipped: string[] = [];
    let up = false;
    let fail: 'no' | 'reject' | 'hang' = 'no';
    const relay = startRelay({
      db,
      logger: silent,
      redisUp: () => up,
      hasWebhook: (agency) => agency !== 'c',
      onSkipped: (agency) => skipped.push(agency),
      intervalMs: 3_600_000,
      batchSize: 3,
      enqueueTimeoutMs: 300,
      queue: {
        async enqueue(events) {
          if (fail === 'reject') throw new Error('Redis refused');
          if (fail === 'hang') await new Promise(() => {});
          handed.push([...events]);
        },
      },
    });
    t.teardown(() => relay.stop());

    const ids = await addEvents(db, ['a', 'b', 'a', 'c', 'a', 'b', 'c']);
    const backlog = await outboxBacklog(db);
    t.equal(backlog.backlog, 7, 'seven waiting');
    t.ok((backlog.oldestAgeSeconds ?? -1) >= 0, 'the oldest age is reported');

    t.equal(await relay.drain(), 0, 'Redis down: nothing taken');
    t.same(await unrelayed(db), ids, 'everything waits in the outbox');

    up = true;
    fail = 'reject';
    t.equal(await relay.drain(), 0, 'a refused enqueue relays nothing');
    t.same(await unrelayed(db), ids, 'and marks nothing');

    fail = 'hang';
    t.equal(await relay.drain(), 0, 'a hung enqueue is given up after its timeout');
    t.same(await unrelayed(db), ids, 'and marks nothing');

    fail = 'no';
    t.equal(await relay.drain(), 7, 'all seven relayed once the queue answers');
    t.same(
      handed.map((b) => b.length),
      [3, 2],
      'in batches of three rows, jobs only for agencies with a webhook',
    );
    t.same(
      handed.flat().map((e) => e.id),
      ids.filter((_, i) => i !== 3 && i !== 6),
      'in outbox order, across batches',
    );
    t.same(
      skipped,
      ['c', 'c'],
      'agency c has no webhook: its events are only in its inbox, marked without a job',
    );
    t.match(handed.flat()[0], { id: ids[0], agency: 'a', type: 'test.event', data: { n: 1 }, replays: 0 });
    t.ok(!Number.isNaN(Date.parse(handed.flat()[0]?.occurredAt ?? '')), 'occurredAt is a time');
    t.same(await unrelayed(db), [], 'all marked');
    t.same(await outboxBacklog(db), { backlog: 0, oldestAgeSeconds: null });
    t.equal(await relay.drain(), 0, 'nothing is relayed twice');
  });
}
