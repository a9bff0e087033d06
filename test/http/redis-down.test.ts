import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { addAgency, initCa } from '../../src/registry/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';
import { freePort, startRedis, stopRedis, until } from '../helpers/redis.js';

const tag = randomBytes(4).toString('hex');
const POLICE = `police-rd${tag}`;
const certsDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-certs-rd-'));
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));
initCa(certsDir, { hostname: 'localhost' });
addAgency(certsDir, { id: POLICE, name: 'RD Police', kind: 'police' });

const call = (tg: TestGateway, sub: string): Promise<HttpResult> =>
  tg.request('/v1/agencies', tg.credentials(POLICE), {
    headers: { authorization: `Bearer ${tg.token(POLICE, 'police_officer', sub)}` },
  });
const ready = (tg: TestGateway) => tg.request('/health/ready', { ca: tg.credentials(POLICE).ca });

function assertRateLimited(t: Test, res: HttpResult): void {
  t.equal(res.status, 429);
  t.equal(res.json.code, 'rate_limited');
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  t.match(String(res.headers['retry-after']), /^\d+$/);
}

t.test(
  'Redis unreachable from the start: the gateway serves, readiness says degraded, limits hold',
  async (t) => {
    const port = await freePort();
    const started = Date.now();
    const tg = await startTestGateway(t, {
      certsDir,
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, SGW_RATE_LIMIT_PER_PRACTITIONER: '3' },
    });
    t.ok(Date.now() - started < 15_000, 'start-up does not hang on Redis');

    const live = await tg.request('/health/live', { ca: tg.credentials(POLICE).ca });
    t.equal(live.status, 200);

    const t0 = Date.now();
    const r = await ready(tg);
    t.ok(Date.now() - t0 < 3000, 'readiness answers promptly');
    t.equal(r.status, 200, 'still in the load balancer: it serves');
    t.equal(r.json.status, 'degraded');
    t.equal(r.json.checks.redis, 'down');
    t.equal(r.json.checks.database, 'up');
    t.equal(r.json.checks.ledger, 'up');
    t.ok(r.headers['x-request-id']);

    const sub = `pc-${tag}-down`;
    for (let i = 1; i <= 3; i++) {
      const res = await call(tg, sub);
      t.equal(res.status, 200, `call ${i} served without Redis`);
      t.same(res.json, [{ id: POLICE, name: 'RD Police', kind: 'police' }]);
    }
    assertRateLimited(t, await call(tg, sub));
    assertRateLimited(t, await call(tg, sub));
    t.equal((await call(tg, `pc-${tag}-other`)).status, 200, 'another practitioner still served');
  },
);

t.test('Redis going away while running, and coming back', async (t) => {
  const port = await freePort();
  let redis = await startRedis(t, port);
  const tg = await startTestGateway(t, {
    certsDir,
    env: { REDIS_URL: `redis://127.0.0.1:${port}`, SGW_RATE_LIMIT_PER_PRACTITIONER: '3' },
  });
  const r1 = await ready(tg);
  t.equal(r1.status, 200, r1.text);
  t.equal(r1.json.checks.redis, 'up');

  const sub = `pc-${tag}-flap`;
  t.equal((await call(tg, sub)).status, 200);

  await stopRedis(redis);
  t.ok(
    await until(async () => (await ready(tg)).json?.checks?.redis === 'down', 5000),
    'readiness reports redis down',
  );
  const down = await ready(tg);
  t.equal(down.status, 200);
  t.equal(down.json.status, 'degraded');
  t.equal(down.json.checks.database, 'up');

  // Counting continues in this process: never an open door, never a 500.
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await call(tg, sub)).status);
  t.notOk(
    statuses.some((s) => s >= 500),
    `no 5xx while Redis is down (${statuses.join(',')})`,
  );
  t.equal(statuses.at(-1), 429, 'the limit still applies');
  t.ok(statuses.filter((s) => s === 200).length <= 3, 'at most the limit is served');

  redis = await startRedis(t, port);
  t.ok(
    await until(async () => (await ready(tg)).json?.status === 'ok', 8000),
    'readiness recovers when Redis is back',
  );
  t.equal((await call(tg, `pc-${tag}-after`)).status, 200);
});
