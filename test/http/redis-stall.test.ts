import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { addAgency, initCa } from '../../src/registry/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { answerWithin } from '../helpers/https.js';
import { until } from '../helpers/redis.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Redis connected but silent (a stalled server, or a network that drops packets without resetting the
 * connection) is worse than Redis down: nothing tells the client, and before this test every request
 * waited on its rate-limit count for ever. A request may now wait one command timeout; the connection is
 * then made again and the requests after it count in the process, as with Redis down.
 */

const tag = randomBytes(4).toString('hex');
const POLICE = `police-rs${tag}`;
const certsDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-certs-rs-'));
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));
initCa(certsDir, { hostname: 'localhost' });
addAgency(certsDir, { id: POLICE, name: 'RS Police', kind: 'police' });

t.test('Redis connected but silent: requests are answered, limits hold, and it recovers', async (t) => {
  const proxy = await startTcpProxy(6379);
  t.teardown(() => proxy.close());
  const tg: TestGateway = await startTestGateway(t, {
    certsDir,
    env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, SGW_RATE_LIMIT_PER_PRACTITIONER: '3' },
  });
  const call = (sub: string) =>
    tg.request('/v1/agencies', tg.credentials(POLICE), {
      headers: { authorization: `Bearer ${tg.token(POLICE, 'police_officer', sub)}` },
    });
  const ready = () => tg.request('/health/ready', { ca: tg.credentials(POLICE).ca });

  t.equal((await call(`pc-${tag}-before`)).status, 200);
  t.equal((await ready()).json.status, 'ok');

  proxy.silence(true);
  const sub = `pc-${tag}-silent`;
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await answerWithin(10_000, call(sub))).status);
  t.same(statuses, [200, 200, 200, 429, 429], 'answered, and the limit counted in the process');

  const degraded = await ready();
  t.equal(degraded.status, 200);
  t.equal(degraded.json.status, 'degraded');
  t.equal(degraded.json.checks.redis, 'down');

  proxy.silence(false);
  t.ok(
    await until(async () => (await ready()).json?.status === 'ok', 15_000),
    'ready again once Redis answers',
  );
  t.equal((await call(`pc-${tag}-after`)).status, 200);
});

t.test('with no traffic, readiness alone notices a silent Redis and its return', async (t) => {
  const proxy = await startTcpProxy(6379);
  t.teardown(() => proxy.close());
  const tg = await startTestGateway(t, {
    certsDir,
    env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
  });
  const ready = () => tg.request('/health/ready', { ca: tg.credentials(POLICE).ca });
  t.equal((await ready()).json.checks.redis, 'up');

  proxy.silence(true);
  t.equal((await ready()).json.checks.redis, 'down', 'an unanswered ping is down');
  proxy.silence(false);
  // What was sent while silent is lost: the old connection never answers again, only a new one does.
  t.ok(
    await until(async () => (await ready()).json?.checks?.redis === 'up', 15_000),
    'up again once Redis answers, without a request to notice it',
  );
});
