import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { AGENCIES, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { IdleConnections, NormalClient, SlowClients } from './attackers.js';
import { Callers } from './callers.js';
import { anyCase, type Case, type OpenApiDocument, operationsOf } from './cases.js';
import { checkResponse } from './checks.js';
import { createFixtures } from './fixtures.js';
import { countSeries, LogScan, type Memory, settledMemory } from './observe.js';
import { Planter } from './plant.js';
import { Sender } from './send.js';

/**
 * The hostile-input run (docs/security.md, "Hostile inputs"): requests generated with fast-check from
 * the OpenAPI document the gateway serves, sent over real TLS to a real gateway while idle and slow
 * connections press on it, every response checked; then the gateway's health, memory, metrics and log
 * output. The quick subset (in `npm test`) and the full run (`npm run test:hostile`) differ in size only.
 */
export interface HostileOptions {
  /** Generated requests in the checked run (the warm-up before it is extra). */
  requests: number;
  /** Requests in flight together (one fast-check run is one batch). */
  batch: number;
  idleConnections: number;
  slowLanes: number;
  /** The most the heap may grow over the run, after full collections. */
  heapGrowthMb: number;
  /** The most RSS may grow: looser, since freed memory is not always returned to the system at once. */
  rssGrowthMb: number;
}

interface Failure {
  run: number;
  labels: string[];
  failures: string[];
  head: string;
}

const envNumber = (name: string): number | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : Number(v);
};

/** Every label a run counts requests by: the first words of each mutation's description. */
const kindOf = (label: string) => label.split(/ [=:(/]| at /)[0]?.slice(0, 40) ?? label;

export async function hostileRun(t: Test, opts: HostileOptions): Promise<void> {
  const seed = envNumber('HOSTILE_SEED') ?? randomBytes(4).readUInt32BE() | 0;
  const path = process.env.HOSTILE_PATH;
  const keepGoing = process.env.HOSTILE_KEEP_GOING === '1';
  const requests = envNumber('HOSTILE_REQUESTS') ?? opts.requests;
  const numRuns = Math.ceil(requests / opts.batch);
  t.comment(`hostile inputs: seed ${seed}${path ? `, path ${path}` : ''}; replay with HOSTILE_SEED=${seed}`);

  const logs = new LogScan();
  const gatewayId = `hostile-${randomBytes(4).toString('hex')}`;
  const gw: TestGateway = await startTestGateway(t, {
    env: {
      SGW_GATEWAY_ID: gatewayId,
      LOG_LEVEL: 'debug',
      METRICS_PORT: '0',
      // High enough that the fuzzer reaches the handlers; the limits have tests of their own.
      SGW_RATE_LIMIT_PER_PRACTITIONER: '1000000',
      SGW_RATE_LIMIT_PER_AGENCY: '1000000',
      SGW_AUTH_FAILURES_PER_MINUTE: '1000000',
      SGW_REQUEST_TIMEOUT_MS: '10000',
      SGW_HEADERS_TIMEOUT_MS: '5000',
      SGW_BODY_RATE_GRACE_MS: '3000',
    },
    start: { logDestination: logs.stream },
  });
  t.teardown(async () => {
    const redis = new Redis(gw.config.redisUrl);
    const keys = await redis.keys(`sgw:rl:${gatewayId}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const fixtures = await createFixtures(gw);
  const doc = (await gw.request('/docs/openapi.json', { ca: gw.credentials(AGENCIES.csc.id).ca }))
    .json as OpenApiDocument;
  const ops = operationsOf(doc);
  const agencies = Object.values(AGENCIES);
  const arb = anyCase(ops, { agencies: agencies.map((a) => a.id), ids: fixtures.ids }, agencies);
  const planter = new Planter();
  const sender = new Sender(gw, new Callers(gw), planter);
  t.teardown(() => sender.close());

  const failures: Failure[] = [];
  const byStatus = new Map<number, number>();
  const byKind = new Map<string, number>();
  const byRoute = new Map<string, number>();
  const clean = new Map<string, number>();
  let sent = 0;
  const runCase = async (c: Case, run: number): Promise<boolean> => {
    const out = await sender.send(c);
    sent++;
    const verdict = checkResponse(c, out.outcome, out.planted, fixtures.parties);
    byStatus.set(verdict.status, (byStatus.get(verdict.status) ?? 0) + 1);
    byRoute.set(`${c.op.method} ${c.op.path}`, (byRoute.get(`${c.op.method} ${c.op.path}`) ?? 0) + 1);
    for (const l of c.labels) byKind.set(kindOf(l), (byKind.get(kindOf(l)) ?? 0) + 1);
    if (c.labels.length === 1 && c.caller.kind === 'agency' && out.outcome.ok) {
      // An unmutated request by an authenticated caller: how far into the handlers the valid-looking ones get.
      const problem = JSON.parse(out.outcome.response.body || '{}') as {
        code?: string;
        errors?: Array<{ path: string }>;
      };
      const key = `${c.op.method} ${c.op.path} ${verdict.status}${problem.code ? ` ${problem.code}` : ''}${problem.errors?.[0] ? ` ${problem.errors[0].path}` : ''}`;
      clean.set(key, (clean.get(key) ?? 0) + 1);
    }
    if (verdict.failures.length === 0) return true;
    failures.push({ run, labels: c.labels, failures: verdict.failures, head: out.head });
    return false;
  };
  const batch = fc.array(arb, { minLength: opts.batch, maxLength: opts.batch });

  const normal = new NormalClient(gw, 250);
  const idle = new IdleConnections(gw, opts.idleConnections);
  const slow = new SlowClients(gw, { lanes: opts.slowLanes, everyMs: 2000, boundMs: 30_000 });
  normal.start();
  await idle.start();
  slow.start();

  // Warm-up: the same kinds of request (another seed), so that what is allocated once (compiled
  // validators, caches, connection pools) is in the baseline, not counted as growth.
  const warm = fc.sample(batch, { seed: seed ^ 0x5eed, numRuns: Math.max(4, Math.ceil(numRuns / 10)) });
  for (const [i, cases] of warm.entries()) await Promise.all(cases.map((c) => runCase(c, -1 - i)));
  const warmFailures = failures.length;
  const before: Memory = await settledMemory();
  const warmSent = sent;

  const started = Date.now();
  let run = 0;
  let error: unknown;
  try {
    await fc.assert(
      fc.asyncProperty(batch, async (cases) => {
        const index = run++;
        const results = await Promise.all(cases.map((c) => runCase(c, index)));
        if (!keepGoing && results.includes(false)) {
          const f = failures.at(-1);
          throw new Error(`hostile request failed: ${f?.failures.join('; ')} [${f?.labels.join(' | ')}]`);
        }
      }),
      {
        seed,
        numRuns: path ? 1 : numRuns,
        ...(path ? { path } : {}),
        endOnFailure: process.env.HOSTILE_SHRINK !== '1',
      },
    );
  } catch (err) {
    error = err;
  }
  const elapsed = (Date.now() - started) / 1000;
  const checked = sent - warmSent;

  await slow.stop();
  await normal.stop();
  const idlePeak = idle.peak;
  const idleOpened = idle.opened;
  idle.stop();
  sender.close();

  t.comment(
    `sent ${checked} generated requests in ${elapsed.toFixed(1)} s (${(checked / elapsed).toFixed(0)}/s) after ${warmSent} warm-up requests; ` +
      `${planter.count} personal data values planted`,
  );
  t.comment(`by status: ${JSON.stringify(Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])))}`);
  t.comment(`by route: ${JSON.stringify(Object.fromEntries(byRoute))}`);
  t.comment(`unmutated, authenticated: ${JSON.stringify(Object.fromEntries([...clean].sort()))}`);
  t.comment(`by mutation: ${JSON.stringify(Object.fromEntries([...byKind].sort((a, b) => b[1] - a[1])))}`);
  for (const f of failures.slice(0, 15)) {
    t.comment(
      `FAILED (run ${f.run}): ${f.failures.join('; ')}\n  ${f.labels.join(' | ')}\n  ${JSON.stringify(f.head.slice(0, 200))}`,
    );
  }

  t.equal(error, undefined, `every generated request passed its checks (seed ${seed})`);
  t.equal(failures.length, 0, `no failing response (${failures.length}, ${warmFailures} in the warm-up)`);
  // A replay of one failing batch (HOSTILE_PATH) sends that batch only.
  const expected = path ? opts.batch : requests;
  t.ok(checked >= expected, `at least ${expected} generated requests were sent (${checked})`);

  const fine = normal.statuses.filter((s) => s === 200).length;
  const sorted = [...normal.latenciesMs].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
  t.ok(
    normal.statuses.length >= 5,
    `normal practitioners made ${normal.statuses.length} calls during the run (directory reads and flag searches)`,
  );
  t.equal(
    fine,
    normal.statuses.length,
    `each was answered 200 (p99 ${p99.toFixed(0)} ms) ${normal.errors.slice(0, 3).join('; ')}`,
  );
  t.ok(
    idlePeak >= opts.idleConnections * 0.9,
    `${idlePeak} idle TLS connections held open at once (${idleOpened} opened)`,
  );
  const slowBad = slow.outcomes.filter(
    (o) => !o.problem || ![401, 408].includes(o.status) || o.closedAfterMs >= 30_000,
  );
  t.ok(slow.outcomes.length >= opts.slowLanes, `${slow.outcomes.length} slow clients were refused`);
  t.same(slowBad, [], 'each slow client was answered 401 or 408 as problem details and closed');

  const connections = await new Promise<number>((resolve) =>
    gw.gateway.app.server.getConnections((_err, n) => resolve(n)),
  );
  t.comment(`connections the gateway still holds: ${connections}`);
  const live = await gw
    .request('/health/live', { ca: gw.credentials(AGENCIES.csc.id).ca })
    .catch((err: Error) => ({ status: 0, text: err.message }));
  t.equal(live.status, 200, `the gateway is alive ${live.status === 200 ? '' : live.text}`);
  const journey = await gw
    .call(AGENCIES.police.id, 'police_officer', 'POST', '/v1/flags/search', {
      subject: { type: 'child', nhsNumber: '9434765919' },
      purpose: 's47_enquiry',
    })
    .catch((err: Error) => ({ status: 0, text: err.message }));
  t.equal(journey.status, 200, `and serves a journey: ${journey.text.slice(0, 200)}`);

  const after = await settledMemory();
  const growth = after.heapUsedMb - before.heapUsedMb;
  t.comment(
    `memory after full collections: heap ${before.heapUsedMb.toFixed(1)} → ${after.heapUsedMb.toFixed(1)} MB, ` +
      `external ${before.externalMb.toFixed(1)} → ${after.externalMb.toFixed(1)} MB, ` +
      `RSS ${before.rssMb.toFixed(0)} → ${after.rssMb.toFixed(0)} MB`,
  );
  t.ok(growth < opts.heapGrowthMb, `the heap grew ${growth.toFixed(1)} MB (bound ${opts.heapGrowthMb} MB)`);
  const externalGrowth = after.externalMb - before.externalMb;
  t.ok(
    externalGrowth < opts.heapGrowthMb,
    `external memory grew ${externalGrowth.toFixed(1)} MB (bound ${opts.heapGrowthMb} MB)`,
  );
  const rssGrowth = after.rssMb - before.rssMb;
  t.ok(rssGrowth < opts.rssGrowthMb, `RSS grew ${rssGrowth.toFixed(0)} MB (bound ${opts.rssGrowthMb} MB)`);

  const metrics = await fetch(`${gw.gateway.metricsUrl}/metrics`).then((r) => r.text());
  const series = countSeries(metrics);
  const patterns = new Set(ops.map((o) => o.path.replace(/\{(\w+)\}/g, ':$1')));
  const strange = [...series.routes].filter((r) => r !== 'unmatched' && !patterns.has(r));
  t.comment(
    `metrics: ${series.allSeries} series, ${series.httpSeries} of sgw_http_requests_total over ${series.routes.size} routes, ` +
      `${series.methods.size} methods, ${series.statuses.size} statuses`,
  );
  t.same(strange, [], 'every route label is a route pattern or "unmatched", never a raw URL');
  t.ok(
    series.httpSeries <= (patterns.size + 1) * series.methods.size * series.statuses.size,
    'the request series are bounded by routes × methods × statuses',
  );
  t.ok(series.methods.size <= 40, `method labels are bounded (${[...series.methods].join(', ')})`);

  t.comment(`log: ${logs.lines} lines, by level ${JSON.stringify(Object.fromEntries(logs.byLevel))}`);
  t.same(logs.leaks, [], 'no planted personal data in any log line');
  t.same(logs.unhandled, [], 'no unhandled error logged');
}
