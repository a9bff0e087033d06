import { readFileSync, rmSync } from 'node:fs';
import t from 'tap';
import { runCli } from '../../src/cli/run.js';
import { loadConfig } from '../../src/config/index.js';
import { backoffDelay, minimumSchedule } from '../../src/notify/index.js';
import { certPaths, setWebhookUrl } from '../../src/registry/index.js';
import { requestBody } from '../exchange/requests-fixtures.js';
import { makeCerts } from '../helpers/gateway.js';
import { CSC, POLICE, validNhsNumberFrom } from '../helpers/ids.js';
import { until } from '../helpers/redis.js';
import { signedWith, startNotifyGateway, startReceiver } from './fixtures.js';

/**
 * Retries with back-off, then a dead letter after the last try: in the database, in the agency's inbox
 * as webhook.dead_lettered, listed by `sgw webhook dead-letters` without any body, and delivered when
 * replayed with `sgw webhook replay`.
 */

const certsDir = makeCerts();
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

t.test('the back-off schedule', async (t) => {
  t.equal(
    backoffDelay(1, 1000, () => 0),
    1000,
    'the first wait is the configured one',
  );
  t.equal(
    backoffDelay(2, 1000, () => 0),
    2000,
    'then it doubles',
  );
  t.equal(
    backoffDelay(5, 1000, () => 0),
    16_000,
  );
  t.equal(
    backoffDelay(3, 1000, () => 1),
    5000,
    'jitter adds up to a quarter',
  );
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(3, 1000);
    t.ok(d >= 4000 && d <= 5000, `jittered wait ${d} within [4000, 5000]`);
  }
  const { webhooks } = loadConfig({});
  t.ok(
    minimumSchedule(webhooks.maxAttempts, webhooks.backoffMs) >= 24 * 3600 * 1000,
    'the default schedule waits at least 24 hours before the dead letter',
  );
  t.equal(minimumSchedule(3, 300), 900, 'three tries: 300 + 600');
});

t.test('retries, a dead letter after the last try, shown in the inbox, replayed', async (t) => {
  const receiver = await startReceiver(t, certsDir);
  setWebhookUrl(certsDir, POLICE, receiver.url(`/hook/${POLICE}`));
  receiver.respond = () => ({ status: 503 });
  const gw = await startNotifyGateway(t, {
    certsDir,
    env: { SGW_WEBHOOK_MAX_ATTEMPTS: '3', SGW_WEBHOOK_BACKOFF_MS: '300' },
  });
  const db = gw.gateway.db;
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      argv,
      { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
      {
        SGW_CERTS_DIR: certsDir,
        DATABASE_URL: gw.config.databaseUrl ?? '',
        LOG_LEVEL: 'silent',
      },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  const subject = { type: 'child', nhsNumber: validNhsNumberFrom(984_000_000) };
  const r = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', requestBody({ subject }));
  t.equal(r.status, 201, r.text);
  const [event] = await db.query<{ event_id: string }>('SELECT event_id FROM outbox');
  const eventId = event?.event_id ?? '';

  t.ok(
    await until(async () => (await db.query('SELECT 1 FROM webhook_dead_letters')).length > 0, 20_000),
    'dead-lettered after the last try',
  );
  const tries = receiver.of(eventId);
  t.equal(tries.length, 3, 'three tries, as configured');
  const gaps = tries.slice(1).map((d, i) => d.at - (tries[i]?.at ?? 0));
  t.ok((gaps[0] ?? 0) >= 300, `the first retry waited the back-off (${gaps[0]} ms)`);
  t.ok((gaps[1] ?? 0) >= 600, `the second waited it doubled (${gaps[1]} ms)`);
  const secret = readFileSync(certPaths(certsDir).webhookSecret(POLICE), 'utf8').trim();
  t.ok(
    tries.every((d) => signedWith(d, [secret]).length === 1),
    'every try is signed',
  );
  t.ok(
    tries.every((d) => d.headers['sgw-event-id'] === eventId && d.json.id === eventId),
    'every try is the same event',
  );

  const [letter] = await db.query<Record<string, unknown>>(
    'SELECT event_id, agency_id, type, attempts, last_error, replayed_at FROM webhook_dead_letters',
  );
  t.same(letter, {
    event_id: eventId,
    agency_id: POLICE,
    type: 'request.received',
    attempts: 3,
    last_error: 'status_503',
    replayed_at: null,
  });
  const inbox = await db.query<Record<string, unknown>>(
    "SELECT agency_id, kind, ref, type FROM inbox_items WHERE type = 'webhook.dead_lettered'",
  );
  t.same(
    inbox,
    [{ agency_id: POLICE, kind: 'event', ref: eventId, type: 'webhook.dead_lettered' }],
    "in the agency's inbox, naming the event",
  );
  const viaHttp = await gw.call(POLICE, 'police_officer', 'GET', '/v1/inbox?status=open');
  t.equal(viaHttp.status, 200, viaHttp.text);
  t.match(
    viaHttp.json.items.filter((i: { type: string }) => i.type === 'webhook.dead_lettered'),
    [{ kind: 'event', type: 'webhook.dead_lettered', ref: eventId }],
    'the agency sees it in GET /v1/inbox',
  );
  const other = await gw.call(CSC, 'social_worker', 'GET', '/v1/inbox?status=all');
  t.notOk(
    other.json.items.some((i: { type: string }) => i.type === 'webhook.dead_lettered'),
    'not in another agency inbox',
  );
  t.equal(
    (await db.query('SELECT 1 FROM outbox WHERE type = $1', ['webhook.dead_lettered'])).length,
    0,
    'not an outbox event: nothing tries to deliver a dead letter to the dead webhook',
  );

  const listed = await cli('webhook', 'dead-letters');
  t.equal(listed.code, 0, listed.err);
  t.match(listed.out, new RegExp(`${eventId}\\t${POLICE}\\trequest.received\\t3\\t`));
  t.match(listed.out, /status_503/);
  t.notOk(listed.out.includes(r.json.id), 'no event data (not even the request id) in the listing');
  t.match((await cli('webhook', 'dead-letters', '--agency', CSC)).out, /no dead letters/, 'per agency');
  t.equal((await cli('webhook', 'dead-letters', '--agency', 'Not An Id')).code, 1, 'a bad agency id');
  t.equal((await cli('webhook', 'replay')).code, 2, 'replay needs --event or --agency --all');
  t.equal((await cli('webhook', 'replay', '--agency', POLICE)).code, 2, '--agency needs --all');

  receiver.respond = () => ({ status: 204 });
  const replayed = await cli('webhook', 'replay', '--event', eventId);
  t.equal(replayed.code, 0, replayed.err);
  t.match(replayed.out, eventId);
  t.ok(await receiver.waitFor(() => receiver.of(eventId).length === 4), 'the running gateway delivers it');
  const last = receiver.of(eventId)[3];
  t.ok(last && signedWith(last, [secret]).length === 1, 'signed');
  t.same(last?.json, tries[0]?.json, 'the same event');
  t.match((await cli('webhook', 'dead-letters')).out, /no dead letters/, 'no open dead letter left');
  t.match((await cli('webhook', 'dead-letters', '--all')).out, new RegExp(`${eventId}.*\\t\\d{4}-`), '--all');
  const again = await cli('webhook', 'replay', '--event', eventId);
  t.equal(again.code, 1, 'a replayed dead letter is not replayed twice');
  t.match(again.err, /no open dead letter/);
  await gw.gateway.notifications.drain();
  t.equal(receiver.of(eventId).length, 4, 'no further delivery');
});

t.test('a dead letter the database cannot take yet: the job waits and records it later, once', async (t) => {
  const receiver = await startReceiver(t, certsDir);
  setWebhookUrl(certsDir, POLICE, receiver.url(`/hook/${POLICE}`));
  receiver.respond = () => ({ status: 500 });
  const gw = await startNotifyGateway(t, {
    certsDir,
    env: { SGW_WEBHOOK_MAX_ATTEMPTS: '2', SGW_WEBHOOK_BACKOFF_MS: '200' },
  });
  const db = gw.gateway.db;
  await db.query(`CREATE FUNCTION test_refuse_dead_letter() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
  await db.query(
    `CREATE TRIGGER test_refuse_dead_letter BEFORE INSERT ON webhook_dead_letters
       FOR EACH ROW EXECUTE FUNCTION test_refuse_dead_letter()`,
  );
  const subject = { type: 'child', nhsNumber: validNhsNumberFrom(984_000_100) };
  t.equal(
    (await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', requestBody({ subject }))).status,
    201,
  );
  const [event] = await db.query<{ event_id: string }>('SELECT event_id FROM outbox');
  const eventId = event?.event_id ?? '';

  t.ok(
    await receiver.waitFor(() => receiver.of(eventId).length >= 4),
    'past its last try the job keeps trying while the dead letter cannot be written',
  );
  t.equal((await db.query('SELECT 1 FROM webhook_dead_letters')).length, 0, 'nothing recorded yet');
  t.equal(
    (await db.query("SELECT 1 FROM inbox_items WHERE type = 'webhook.dead_lettered'")).length,
    0,
    'no inbox item without its dead letter',
  );

  await db.query('DROP TRIGGER test_refuse_dead_letter ON webhook_dead_letters');
  t.ok(
    await until(async () => (await db.query('SELECT 1 FROM webhook_dead_letters')).length > 0, 15_000),
    'recorded once the database takes it',
  );
  const tries = receiver.of(eventId).length;
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(receiver.of(eventId).length, tries, 'and the tries stop');
  const letters = await db.query<{ attempts: number }>('SELECT attempts FROM webhook_dead_letters');
  t.same(letters, [{ attempts: 2 }], 'one dead letter, counting the configured tries');
  t.equal(
    (await db.query("SELECT 1 FROM inbox_items WHERE type = 'webhook.dead_lettered'")).length,
    1,
    'one inbox item',
  );
});
