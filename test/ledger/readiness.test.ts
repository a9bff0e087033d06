import t from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import { httpsRequest } from '../helpers/https.js';

t.test('readiness reports the ledger down when an entry cannot be queued, and up again after', async (t) => {
  const gw = await startTestGateway(t);
  const { db } = gw.gateway;
  const ready = async () => {
    const r = await httpsRequest(`${gw.url}/health/ready`, { ca: gw.credentials('csc-north').ca });
    return { status: r.status, ledger: r.json.checks.ledger as string };
  };
  t.same(await ready(), { status: 200, ledger: 'up' });

  await db.query(`CREATE FUNCTION test_refuse_queue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
  await db.query(
    'CREATE TRIGGER test_refuse_queue BEFORE INSERT ON ledger_queue FOR EACH ROW EXECUTE FUNCTION test_refuse_queue()',
  );
  t.same(await ready(), { status: 503, ledger: 'down' }, 'an unwritable ledger is not ready');

  await db.query('DROP TRIGGER test_refuse_queue ON ledger_queue');
  t.same(await ready(), { status: 200, ledger: 'up' });
  const [queued] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_queue');
  t.equal(queued?.n, 0, 'the probe leaves nothing behind');
});

t.test('readiness reports a stalled sequencer: entries waiting for over 30 s', async (t) => {
  const gw = await startTestGateway(t);
  const { db, ledger } = gw.gateway;
  await ledger.stop();
  t.equal((await ledger.health()).ok, true, 'an empty queue is not a stall');
  await db.query(
    `INSERT INTO ledger_queue (entry_id, at, body) VALUES (gen_random_uuid(), now() - interval '31 seconds', '{}')`,
  );
  t.same(await ledger.health(), { ok: false, treeSize: 0, reason: 'sequencer stalled' });
});

t.test('the queue is part of the record: no update, no truncate, no delete before sequencing', async (t) => {
  const gw = await startTestGateway(t);
  const { db, ledger } = gw.gateway;
  await ledger.stop();
  await db.query(`INSERT INTO ledger_queue (entry_id, body) VALUES (gen_random_uuid(), '{"action":"x"}')`);
  for (const sql of [
    `UPDATE ledger_queue SET body = '{"action":"changed"}'`,
    'DELETE FROM ledger_queue',
    'TRUNCATE ledger_queue',
  ]) {
    await t.rejects(db.query(sql), /refused/, sql);
  }
  const [row] = await db.query<{ body: { action: string } }>('SELECT body FROM ledger_queue');
  t.same(row?.body, { action: 'x' }, 'the queued entry is as written');
});

t.test('readiness stays up while entries are sequenced and checkpointed under it', async (t) => {
  // Readiness reads the head and the latest checkpoint; a checkpoint signed between the two reads must
  // not look like a checkpoint beyond the head (a false 503 that takes a busy gateway out of service).
  const gw = await startTestGateway(t);
  const anonymous = { ca: gw.credentials('csc-north').ca };
  let writing = true;
  const writes = (async () => {
    for (let i = 0; i < 60; i++) {
      await Promise.all(
        Array.from({ length: 4 }, () =>
          gw.call('police-county', 'police_officer', 'POST', '/v1/flags/search', {
            subject: { type: 'child', nhsNumber: '9434765919' },
            purpose: 's47_enquiry',
          }),
        ),
      );
      await gw.gateway.ledger.flush();
    }
    writing = false;
  })();
  const answers = new Map<string, number>();
  while (writing) {
    const r = await httpsRequest(`${gw.url}/health/ready`, anonymous);
    const key = `${r.status} ${r.json?.checks?.ledger}`;
    answers.set(key, (answers.get(key) ?? 0) + 1);
  }
  await writes;
  t.same(
    [...answers.keys()],
    ['200 up'],
    `every probe was ready: ${JSON.stringify(Object.fromEntries(answers))}`,
  );
});
