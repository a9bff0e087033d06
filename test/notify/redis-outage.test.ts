import { rmSync } from 'node:fs';
import t from 'tap';
import { setWebhookUrl } from '../../src/registry/index.js';
import { requestBody } from '../exchange/requests-fixtures.js';
import { makeCerts, type TestGateway } from '../helpers/gateway.js';
import { CSC, POLICE, validNhsNumberFrom } from '../helpers/ids.js';
import { freePort, startRedis, stopRedis, until } from '../helpers/redis.js';
import { startNotifyGateway, startReceiver } from './fixtures.js';

/**
 * Redis stopped during traffic (a private redis-server): requests still succeed, readiness says
 * degraded with the outbox backlog growing, and once Redis is back every event arrives, none lost.
 */

const certsDir = makeCerts();
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

const ready = (gw: TestGateway) => gw.request('/health/ready', { ca: gw.credentials(POLICE).ca });

t.test('Redis stopped during traffic, then back', async (t) => {
  const port = await freePort();
  let redis = await startRedis(t, port);
  const receiver = await startReceiver(t, certsDir);
  setWebhookUrl(certsDir, POLICE, receiver.url(`/hook/${POLICE}`));
  const gw = await startNotifyGateway(t, {
    certsDir,
    wipe: false,
    env: { REDIS_URL: `redis://127.0.0.1:${port}` },
  });
  let n = 0;
  const ask = async () => {
    n++;
    const subject = { type: 'child', nhsNumber: validNhsNumberFrom(983_000_000 + n * 10) };
    return gw.call(CSC, 'social_worker', 'POST', '/v1/requests', requestBody({ subject }));
  };
  const eventIds = async () =>
    (await gw.gateway.db.query<{ event_id: string }>('SELECT event_id FROM outbox ORDER BY id')).map(
      (r) => r.event_id,
    );
  const allArrived = async () => {
    const ids = await eventIds();
    return ids.every((id) => receiver.of(id).length > 0);
  };

  for (let i = 0; i < 3; i++) t.equal((await ask()).status, 201);
  t.ok(await until(allArrived, 10_000), 'with Redis up, events arrive');
  const before = await ready(gw);
  t.equal(before.status, 200);
  t.equal(before.json.status, 'ok');
  t.same(before.json.outbox, { backlog: 0, oldestAgeSeconds: null }, 'no backlog');

  await stopRedis(redis);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await ask()).status);
  t.same(statuses, [201, 201, 201, 201, 201], 'requests still succeed without Redis');
  t.ok(
    await until(async () => (await ready(gw)).json?.outbox?.backlog === 5, 10_000),
    'the five events wait in the outbox',
  );
  const degraded = await ready(gw);
  t.equal(degraded.status, 200, 'readiness keeps the gateway in the load balancer');
  t.equal(degraded.json.status, 'degraded');
  t.equal(degraded.json.checks.redis, 'down');
  t.equal(degraded.json.checks.database, 'up');
  t.equal(degraded.json.checks.ledger, 'up');
  t.ok(degraded.json.outbox.oldestAgeSeconds >= 0, 'the oldest unrelayed event has an age');
  t.equal(receiver.deliveries.length, 3, 'nothing delivered while Redis is down');

  redis = await startRedis(t, port);
  t.ok(await until(allArrived, 20_000), 'after Redis returns every event arrives');
  const ids = await eventIds();
  t.equal(ids.length, 8);
  t.same(
    ids.map((id) => receiver.of(id).length),
    ids.map(() => 1),
    'none lost, none twice',
  );
  t.ok(await until(async () => (await ready(gw)).json?.status === 'ok', 10_000), 'readiness back to ok');
  t.same((await ready(gw)).json.outbox, { backlog: 0, oldestAgeSeconds: null });
});

t.test(
  'Redis restarted without its data while events wait for a retry: they are relayed again',
  async (t) => {
    const port = await freePort();
    let redis = await startRedis(t, port);
    const receiver = await startReceiver(t, certsDir);
    receiver.respond = () => ({ status: 503 });
    setWebhookUrl(certsDir, POLICE, receiver.url(`/hook/${POLICE}`));
    const gw = await startNotifyGateway(t, {
      certsDir,
      wipe: false,
      // The first try fails and the retry would be a minute away: the jobs sit in Redis, delayed.
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, SGW_WEBHOOK_BACKOFF_MS: '60000' },
    });
    for (let i = 0; i < 3; i++) {
      const subject = { type: 'child', nhsNumber: validNhsNumberFrom(984_000_000 + i * 10) };
      const res = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', requestBody({ subject }));
      t.equal(res.status, 201);
    }
    const rows = async () =>
      gw.gateway.db.query<{ event_id: string; settled: boolean }>(
        'SELECT event_id, settled_at IS NOT NULL AS settled FROM outbox ORDER BY id',
      );
    const ids = (await rows()).map((r) => r.event_id);
    t.ok(
      await until(() => ids.every((id) => receiver.of(id).length === 1), 10_000),
      'each event was tried once and waits for its retry',
    );
    t.same(
      (await rows()).map((r) => r.settled),
      ids.map(() => false),
      'relayed, not settled: only Redis holds them',
    );

    await stopRedis(redis);
    redis = await startRedis(t, port);
    receiver.respond = () => ({ status: 200 });
    t.ok(
      await until(() => ids.every((id) => receiver.of(id).length === 2), 20_000),
      'the jobs Redis lost are relayed again and delivered',
    );
    t.ok(
      await until(async () => (await rows()).every((r) => r.settled), 10_000),
      'once delivered, every row is settled',
    );
    t.same(
      ids.map((id) => receiver.of(id).map((d) => d.json.id)),
      ids.map((id) => [id, id]),
      'the same event, under its own id, each time',
    );
  },
);
