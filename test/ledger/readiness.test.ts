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
