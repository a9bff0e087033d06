import { readFileSync } from 'node:fs';
import t from 'tap';
import { certPaths, reactivateAgency, readRegistry, suspendAgency } from '../../src/registry/index.js';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';
import { httpsRequest } from '../helpers/https.js';

const tg = await startTestGateway(t);
const ca = readFileSync(certPaths(tg.certsDir).caCert, 'utf8');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sortedAgencies = () =>
  Object.values(AGENCIES)
    .map((a) => ({ id: a.id, name: a.name, kind: a.kind }))
    .sort((a, b) => a.id.localeCompare(b.id));

t.test('GET /health/live: 200 {status: ok}, no client certificate needed', async (t) => {
  const res = await httpsRequest(`${tg.url}/health/live`, { ca });
  t.equal(res.status, 200);
  t.same(res.json, { status: 'ok' });
  t.match(res.headers['content-type'], /^application\/json/);
  t.match(res.headers['x-request-id'], UUID);
});

t.test('GET /health/ready: 200 with database and redis up', async (t) => {
  const res = await httpsRequest(`${tg.url}/health/ready`, { ca });
  t.equal(res.status, 200, res.text);
  t.equal(res.json.status, 'ok');
  t.equal(res.json.checks.database, 'up');
  t.equal(res.json.checks.redis, 'up');
  for (const v of Object.values(res.json.checks as Record<string, string>)) t.equal(v, 'up');
  t.match(res.headers['x-request-id'], UUID);
});

t.test('unknown route over the real gateway: 404 problem+json', async (t) => {
  const res = await tg.call(AGENCIES.csc.id, 'social_worker', 'GET', '/v1/nothing-here');
  t.equal(res.status, 404);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  t.equal(res.json.code, 'not_found');
  t.equal(res.json.requestId, res.headers['x-request-id']);
  const plain = await httpsRequest(`${tg.url}/nothing`, { ca });
  t.equal(plain.status, 404);
  t.equal(plain.json.code, 'not_found');
});

t.test('GET /v1/agencies: the active agencies as {id, name, kind}, nothing secret', async (t) => {
  const res = await tg.call(AGENCIES.gp.id, 'gp', 'GET', '/v1/agencies');
  t.equal(res.status, 200, res.text);
  t.match(res.headers['x-request-id'], UUID);
  t.same(res.json, sortedAgencies());
  for (const a of res.json as Array<Record<string, unknown>>) {
    t.same(Object.keys(a).sort(), ['id', 'kind', 'name'], `${a.id}: only id, name, kind`);
  }
  const registry = readRegistry(tg.certsDir);
  for (const a of registry.agencies) {
    t.notMatch(res.text, a.webhookSecret, `no webhook secret of ${a.id}`);
    for (const k of a.jwtKeys) t.notMatch(res.text, k.kid, `no key id of ${a.id}`);
  }
  t.notMatch(res.text, /BEGIN|webhook|jwtKeys|certificates|serial|status/i);
});

t.test('a suspended agency leaves the directory within 5 s, and returns when reactivated', async (t) => {
  suspendAgency(tg.certsDir, AGENCIES.probation.id);
  const listed = async () => {
    const res = await tg.call(AGENCIES.csc.id, 'social_worker', 'GET', '/v1/agencies');
    t.equal(res.status, 200);
    return (res.json as Array<{ id: string }>).map((a) => a.id);
  };
  const started = Date.now();
  let ids = await listed();
  while (ids.includes(AGENCIES.probation.id) && Date.now() - started < 5000) {
    await new Promise((r) => setTimeout(r, 200));
    ids = await listed();
  }
  t.notOk(ids.includes(AGENCIES.probation.id), 'gone');
  t.ok(Date.now() - started < 5000, `within 5 s (${Date.now() - started} ms)`);
  t.same(
    ids,
    sortedAgencies()
      .filter((a) => a.id !== AGENCIES.probation.id)
      .map((a) => a.id),
    'the others are still listed',
  );

  reactivateAgency(tg.certsDir, AGENCIES.probation.id);
  const again = Date.now();
  ids = await listed();
  while (!ids.includes(AGENCIES.probation.id) && Date.now() - again < 5000) {
    await new Promise((r) => setTimeout(r, 200));
    ids = await listed();
  }
  t.ok(ids.includes(AGENCIES.probation.id), 'back after reactivation');
});

t.test(
  'the database going away: readiness 503 with database down; the directory still answers',
  async (t) => {
    const other = await startTestGateway(t);
    const before = await httpsRequest(`${other.url}/health/ready`, {
      ca: other.credentials(AGENCIES.csc.id).ca,
    });
    t.equal(before.status, 200);
    await other.database?.drop();
    const res = await httpsRequest(`${other.url}/health/ready`, {
      ca: other.credentials(AGENCIES.csc.id).ca,
    });
    t.equal(res.status, 503);
    t.equal(res.json.status, 'unavailable');
    t.equal(res.json.checks.database, 'down');
    t.equal(res.json.checks.redis, 'up');
    const dir = await other.call(AGENCIES.csc.id, 'social_worker', 'GET', '/v1/agencies');
    t.equal(dir.status, 200, 'the directory needs no database');
  },
);
