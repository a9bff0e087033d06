import { rmSync } from 'node:fs';
import t, { type Test } from 'tap';
import { setWebhookUrl } from '../../src/registry/index.js';
import { requestBody } from '../exchange/requests-fixtures.js';
import { AGENCIES, makeCerts, type TestGateway } from '../helpers/gateway.js';
import { CSC, POLICE, validNhsNumberFrom } from '../helpers/ids.js';
import { until } from '../helpers/redis.js';
import { type Receiver, startNotifyGateway, startReceiver, testGatewayId } from './fixtures.js';

/**
 * The relay's guarantees: an event is handed to the queue at least once even when the relay dies
 * between the queue's acknowledgement and marking the row, and is then delivered once (the queue knows
 * it by its id); several gateway processes relaying one outbox deliver each event once per try.
 */

const certsDir = makeCerts();
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

const subject = (n: number) => ({ type: 'child', nhsNumber: validNhsNumberFrom(982_000_000 + n * 10) });

async function receiverForAll(t: Test): Promise<Receiver> {
  const receiver = await startReceiver(t, certsDir);
  for (const a of Object.values(AGENCIES)) setWebhookUrl(certsDir, a.id, receiver.url(`/hook/${a.id}`));
  return receiver;
}

async function ask(gw: TestGateway, n: number): Promise<string> {
  const r = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', requestBody({ subject: subject(n) }));
  if (r.status !== 201) throw new Error(`request not created: ${r.status} ${r.text}`);
  return r.json.id;
}

async function unrelayed(gw: TestGateway): Promise<number> {
  const [row] = await gw.gateway.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL',
  );
  return row?.n ?? -1;
}

async function eventIds(gw: TestGateway): Promise<string[]> {
  return (await gw.gateway.db.query<{ event_id: string }>('SELECT event_id FROM outbox ORDER BY id')).map(
    (r) => r.event_id,
  );
}

t.test('a relay that dies between the enqueue and the marking: delivered, and once', async (t) => {
  const receiver = await receiverForAll(t);
  let faults = 0;
  let rounds = 0;
  const gw = await startNotifyGateway(t, {
    certsDir,
    start: {
      relay: {
        async afterEnqueue() {
          rounds++;
          if (faults > 0) return;
          faults++;
          // The job is in Redis; let the worker deliver it before this relay "dies", so that the
          // relay after it hands over a job the queue has already completed.
          await receiver.waitFor((ds) => ds.length > 0, 10_000);
          throw new Error('relay killed between enqueue and mark');
        },
      },
    },
  });
  await ask(gw, 0);
  const [eventId] = await eventIds(gw);
  t.ok(eventId);
  t.ok(await until(async () => (await unrelayed(gw)) === 0, 15_000), 'the row is marked by a later round');
  t.equal(faults, 1, 'the fault happened');
  t.ok(rounds >= 2, 'the event was handed to the queue again after the fault');
  await gw.gateway.notifications.drain();
  t.equal(receiver.of(eventId ?? '').length, 1, 'delivered exactly once: the queue knew the job id');
});

t.test('the fault before the queue saw it: the row stays unrelayed and goes at the next round', async (t) => {
  const receiver = await receiverForAll(t);
  let failing = true;
  const gw = await startNotifyGateway(t, {
    certsDir,
    start: {
      relay: {
        async afterEnqueue() {
          if (failing) throw new Error('marking fails');
        },
      },
    },
  });
  await ask(gw, 1);
  const [eventId] = await eventIds(gw);
  t.ok(await receiver.waitFor((ds) => ds.length === 1), 'the event is delivered although unmarked');
  t.equal(await unrelayed(gw), 1, 'the row is still unrelayed: the marking never committed');
  failing = false;
  t.ok(await until(async () => (await unrelayed(gw)) === 0, 10_000), 'marked once the relay works');
  t.equal(receiver.of(eventId ?? '').length, 1, 'still delivered once');
});

t.test('two gateway processes relaying one outbox deliver each event once', async (t) => {
  const receiver = await receiverForAll(t);
  const gatewayId = testGatewayId();
  const first = await startNotifyGateway(t, { certsDir, gatewayId, start: { relay: { intervalMs: 50 } } });
  const second = await startNotifyGateway(t, {
    certsDir,
    gatewayId,
    wipe: false,
    env: { DATABASE_URL: first.config.databaseUrl ?? '' },
    start: { relay: { intervalMs: 50 } },
  });
  const created: Array<Promise<string>> = [];
  for (let i = 0; i < 30; i++) created.push(ask(i % 2 === 0 ? first : second, 100 + i));
  await Promise.all(created);
  const ids = await eventIds(first);
  t.equal(ids.length, 30, 'thirty events in the one outbox');
  t.ok(
    await receiver.waitFor((ds) => ids.every((id) => ds.some((d) => d.headers['sgw-event-id'] === id))),
    'all delivered',
  );
  await Promise.all([first.gateway.notifications.drain(), second.gateway.notifications.drain()]);
  const counts = ids.map((id) => receiver.of(id).length);
  t.same(
    counts,
    ids.map(() => 1),
    'each event delivered exactly once',
  );
  t.ok(
    receiver.deliveries.every((d) => d.path === `/hook/${POLICE}`),
    'all to the addressed agency',
  );
  t.equal(await unrelayed(first), 0);
});

t.test(
  'a gateway that loses Redis alone serves on, and another gateway relays what it committed',
  async (t) => {
    const receiver = await receiverForAll(t);
    const gatewayId = testGatewayId();
    const alone = await startNotifyGateway(t, {
      certsDir,
      gatewayId,
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      start: { relay: { intervalMs: 50 } },
    });
    const ready = await alone.request('/health/ready', { ca: alone.credentials(CSC).ca });
    t.equal(ready.status, 200);
    t.equal(ready.json.status, 'degraded', 'the gateway without Redis says so');

    const created: string[] = [];
    for (let i = 0; i < 6; i++) created.push(await ask(alone, 200 + i));
    const ids = await eventIds(alone);
    t.equal(ids.length, 6, 'every request served and its event committed without Redis');
    t.equal(await unrelayed(alone), 6, 'they wait in the outbox');

    const other = await startNotifyGateway(t, {
      certsDir,
      gatewayId,
      wipe: false,
      env: { DATABASE_URL: alone.config.databaseUrl ?? '' },
      start: { relay: { intervalMs: 50 } },
    });
    t.ok(
      await receiver.waitFor((ds) => ids.every((id) => ds.some((d) => d.headers['sgw-event-id'] === id))),
      'the other gateway delivered every event',
    );
    await other.gateway.notifications.drain();
    t.equal(await unrelayed(alone), 0, 'every row marked relayed');
    t.same(
      ids.map((id) => receiver.of(id).length),
      ids.map(() => 1),
      'each delivered once',
    );
  },
);
