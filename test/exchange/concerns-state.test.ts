import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startOverdueSweep } from '../../src/exchange/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  concernBody,
  concernHarness,
  decisionBody,
  GP,
  nhsNumber,
  POLICE,
} from './concerns-fixtures.js';

const DAY_MS = 24 * 3600 * 1000;

/** Waits for a condition the gateway reaches on its own (a timer's work); fails after a generous while. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Test-only faults: the database refuses a write, as a full disk or a broken table would. */
async function refuse(db: { query(sql: string): Promise<unknown> }, table: string, op: 'INSERT' | 'UPDATE') {
  const name = `test_refuse_${table}_${op.toLowerCase()}`;
  await db.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
  await db.query(`CREATE TRIGGER ${name} BEFORE ${op} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  let healed = false;
  return async () => {
    if (healed) return;
    healed = true;
    await db.query(`DROP TRIGGER ${name} ON ${table}`);
    await db.query(`DROP FUNCTION ${name}()`);
  };
}

/**
 * Concerns fail closed when the ledger cannot record (contract section 11), and the one overdue timer
 * sweeps concerns and requests, each regardless of the other's failure. On PostgreSQL.
 */
t.test('concerns: failing closed and the overdue timer (postgres)', async (t) => {
  let clock = new Date();
  const gw = await startTestGateway(t, { now: () => clock });
  const h = concernHarness(gw);
  const { db, ledger } = gw.gateway;
  const count = async (sql: string, params: unknown[] = []) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0]?.n ?? -1;

  t.test('nothing is submitted, shown or decided when the ledger cannot record', async (t) => {
    const { id } = await h.raise({ summary: 'Bruising seen on both arms at the clinic.' });
    const heal = await refuse(db, 'ledger_queue', 'INSERT');
    t.teardown(heal);
    const expect503 = (r: { status: number; json: { code?: string }; text: string }, what: string) => {
      t.equal(r.status, 503, `${what}: ${r.text}`);
      t.equal(r.json.code, 'audit_unavailable', what);
      t.notMatch(r.text, /disk full|ledger_queue|trigger/, `${what}: no internal message`);
    };
    const concernsBefore = await count('concerns');
    const outboxBefore = await count('outbox');

    expect503(
      await h.gp('POST', '/v1/concerns', concernBody({ child: { type: 'child', nhsNumber: nhsNumber(40) } })),
      'submit',
    );
    t.equal(await count('concerns'), concernsBefore, 'no concern stored');

    for (const read of [h.sw, h.gp]) {
      const r = await read('GET', `/v1/concerns/${id}`);
      expect503(r, 'read');
      t.notOk(r.text.includes('Bruising'), 'nothing shown');
    }
    expect503(await h.sw('POST', `/v1/concerns/${id}/decision`, decisionBody()), 'decide');
    t.equal(await count('outbox'), outboxBefore, 'no event left behind');

    await heal();
    const read = await h.sw('GET', `/v1/concerns/${id}`);
    t.equal(read.status, 200, 'once the ledger records again, the read works');
    t.equal(read.json.status, 'submitted', 'the failed decision was not kept');
    t.equal(read.json.summary, 'Bruising seen on both arms at the clinic.');
    const viewed = (await h.entries(CSC, id, '&action=concern.viewed')).length;
    t.equal(viewed, 1, 'only the read that was shown is ledgered');
  });

  t.test('one timer sweeps requests and concerns; one failing does not stop the other', async (t) => {
    const concern = await h.raise({ child: { type: 'child', nhsNumber: nhsNumber(41) } });
    const request = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: POLICE,
      subject: { type: 'child', nhsNumber: nhsNumber(41) },
      purpose: 's47_enquiry',
      categories: ['incidents'],
      justification: 'Strategy discussion held today.',
      respondBy: new Date(Date.now() + 3_600_000).toISOString(),
    });
    t.equal(request.status, 201, request.text);
    const overdueEvents = (type: string, key: string, id: string) =>
      count(`outbox WHERE type = $1 AND data->>'${key}' = $2`, [type, id]);

    clock = new Date(Date.now() + 30 * DAY_MS);
    const heal = await refuse(db, 'concerns', 'UPDATE');
    t.teardown(heal);
    const errors: string[] = [];
    const sweep = startOverdueSweep({
      db,
      ledger,
      intervalMs: 100,
      now: () => clock,
      logger: { info: () => {}, error: (_o, msg) => errors.push(msg ?? '') },
    });
    t.teardown(() => sweep.stop());

    await eventually(
      'request.overdue',
      async () => (await overdueEvents('request.overdue', 'requestId', request.json.id)) === 2,
    );
    // Several more ticks: the failing concerns sweep is logged once, not on every tick.
    await sleep(1000);
    t.same(errors, ['overdue sweep of concerns failed'], 'logged once while it keeps failing');
    t.equal(await overdueEvents('concern.overdue', 'concernId', concern.id), 0, 'no concern marked');

    await heal();
    await eventually(
      'concern.overdue',
      async () => (await overdueEvents('concern.overdue', 'concernId', concern.id)) === 2,
    );
    const recipients = await db.query<{ agency_id: string }>(
      `SELECT agency_id FROM outbox WHERE type = 'concern.overdue' AND data->>'concernId' = $1 ORDER BY agency_id`,
      [concern.id],
    );
    t.same(
      recipients.map((r) => r.agency_id),
      [CSC, GP].sort(),
    );
    await sweep.stop();
    t.same(errors, ['overdue sweep of concerns failed'], 'no further error once it works again');
  });
});
