import { rmSync } from 'node:fs';
import t from 'tap';
import { createTestDatabase } from '../helpers/db.js';
import { makeCerts, startTestGateway } from '../helpers/gateway.js';
import { answerWithin } from '../helpers/https.js';
import { POLICE, validNhsNumberFrom } from '../helpers/ids.js';
import { until } from '../helpers/redis.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

/**
 * PostgreSQL connected but silent: before SGW_DB_QUERY_TIMEOUT_MS, each request that reached the
 * database waited for ever and held a pooled connection. Now a query unanswered in time fails as the
 * database being unavailable (503: nothing disclosed, nothing recorded half), and the gateway serves
 * again once the server answers.
 */

const certsDir = makeCerts();
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

t.test('a silent PostgreSQL: bounded 503s, nothing disclosed, then served again', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const proxy = await startTcpProxy(5432);
  t.teardown(() => proxy.close());
  const tg = await startTestGateway(t, {
    certsDir,
    env: {
      DATABASE_URL: database.url.replace(':5432/', `:${proxy.port}/`),
      SGW_DB_QUERY_TIMEOUT_MS: '1000',
    },
  });
  let n = 0;
  const search = () =>
    tg.call(POLICE, 'police_officer', 'POST', '/v1/flags/search', {
      subject: { type: 'child', nhsNumber: validNhsNumberFrom(987_100_000 + 10 * n++) },
      purpose: 'risk_to_children_check',
    });
  t.equal((await search()).status, 200, 'served while PostgreSQL answers');

  proxy.silence(true);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await answerWithin(15_000, search())).status);
  t.same(statuses, [503, 503, 503], 'each search refused in bounded time, none disclosed');
  const ready = await tg.request('/health/ready', { ca: tg.credentials(POLICE).ca });
  t.equal(ready.status, 503, 'readiness: out of the load balancer');
  t.equal(ready.json.checks.database, 'down');

  proxy.silence(false);
  t.ok(
    await until(async () => (await search()).status === 200, 30_000),
    'served again once PostgreSQL answers',
  );
});
