import { randomUUID } from 'node:crypto';
import t from 'tap';
import { listDeadLetters } from '../../src/notify/index.js';
import type { JobStanding } from '../../src/notify/queue.js';
import { startReconciler } from '../../src/notify/reconcile.js';
import type { Db } from '../../src/store/index.js';
import { openTestStore } from '../helpers/db.js';

/**
 * The reconciler alone, against a real database and a queue whose answers the test sets per job: a
 * missing job goes back to the relay, a finished one is settled, a job that failed without its dead letter
 * (a worker lost too often mid-try) gets one, a pending one is left alone, and a row replayed between the
 * look and the write is not touched.
 */

const silent = { warn() {}, error() {} };

async function addRelayed(db: Db, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    ids.push(id);
    await db.query(
      `INSERT INTO outbox (agency_id, event_id, type, data, relayed_at)
       VALUES ('gp-a', $1, 'request.received', '{}', clock_timestamp())`,
      [id],
    );
  }
  return ids;
}

interface RowState extends Record<string, unknown> {
  event_id: string;
  relayed: boolean;
  settled: boolean;
}

const states = async (db: Db) =>
  Object.fromEntries(
    (
      await db.query<RowState>(
        'SELECT event_id, relayed_at IS NOT NULL AS relayed, settled_at IS NOT NULL AS settled FROM outbox',
      )
    ).map((r) => [r.event_id, { relayed: r.relayed, settled: r.settled }]),
  );

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`${backend}: each standing of a job decides what becomes of its row`, async (t) => {
    const db = await openTestStore(t, backend);
    const [missing, completed, failed, pending, replayed] = await addRelayed(db, 5);
    const standings: Record<string, JobStanding> = {
      [missing as string]: { state: 'missing' },
      [completed as string]: { state: 'completed' },
      [failed as string]: { state: 'failed', attempts: 4, reason: 'job stalled more than allowable limit' },
      [pending as string]: { state: 'pending' },
      [replayed as string]: { state: 'missing' },
    };
    const requeued: number[] = [];
    const reconciler = startReconciler({
      db,
      logger: silent,
      redisUp: () => true,
      onRequeued: (n) => requeued.push(n),
      intervalMs: 3_600_000,
      batchSize: 2,
      queue: {
        async standing(jobId) {
          // The operator replays this row's dead letter while the reconciler looks at its old job.
          if (jobId === replayed) {
            await db.query('UPDATE outbox SET replays = replays + 1 WHERE event_id = $1', [replayed]);
          }
          return standings[jobId] ?? { state: 'pending' };
        },
      },
    });
    t.teardown(() => reconciler.stop());

    t.equal(await reconciler.sweep(), 1, 'one event was lost by the queue');
    t.same(requeued, [1], 'the loss is counted');
    const after = await states(db);
    t.same(
      after[missing as string],
      { relayed: false, settled: false },
      'a missing job goes back to the relay',
    );
    t.same(after[completed as string], { relayed: true, settled: true }, 'a delivered job is settled');
    t.same(after[failed as string], { relayed: true, settled: true }, 'a failed job is settled');
    t.same(after[pending as string], { relayed: true, settled: false }, 'a pending job is left to the queue');
    t.same(
      after[replayed as string],
      { relayed: true, settled: false },
      'a row replayed meanwhile is untouched',
    );

    const dead = await listDeadLetters(db);
    t.same(
      dead.map((d) => [d.eventId, d.attempts, d.lastError]),
      [[failed, 4, 'worker_lost']],
      'the failed job without a dead letter gets one, its reason reported as a code',
    );
    const inbox = await db.query<{ type: string; ref: string }>(
      `SELECT type, ref FROM inbox_items WHERE agency_id = 'gp-a'`,
    );
    t.same(inbox, [{ type: 'webhook.dead_lettered', ref: failed }], 'and the agency sees it in its inbox');

    t.equal(await reconciler.sweep(), 0, 'a second sweep finds nothing new');
    t.equal((await listDeadLetters(db)).length, 1, 'and writes no second dead letter');
  });
}

t.test('nothing is asked while Redis is down; a queue that fails leaves every row as it was', async (t) => {
  const db = await openTestStore(t);
  const ids = await addRelayed(db, 3);
  let up = false;
  let asked = 0;
  const errors: object[] = [];
  const reconciler = startReconciler({
    db,
    logger: { warn() {}, error: (o) => errors.push(o) },
    redisUp: () => up,
    intervalMs: 3_600_000,
    queue: {
      async standing() {
        asked++;
        throw new Error('Connection is closed.');
      },
    },
  });
  t.teardown(() => reconciler.stop());
  t.equal(await reconciler.sweep(), 0);
  t.equal(asked, 0, 'the queue is not asked while Redis is down');
  up = true;
  t.equal(await reconciler.sweep(), 0);
  t.equal(errors.length, 1, 'the failure is logged');
  const after = await states(db);
  t.same(
    ids.map((id) => after[id]),
    ids.map(() => ({ relayed: true, settled: false })),
    'no row changed',
  );
});
