import { rmSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import t, { type Test } from 'tap';
import { setWebhookUrl } from '../../src/registry/index.js';
import { requestBody } from '../exchange/requests-fixtures.js';
import { PG_ADMIN_URL } from '../helpers/db.js';
import { makeCerts } from '../helpers/gateway.js';
import { CSC, POLICE, validNhsNumberFrom } from '../helpers/ids.js';
import { until } from '../helpers/redis.js';
import { startNotifyGateway, startReceiver } from './fixtures.js';

/**
 * GET /metrics on the separate listener parses as Prometheus text (exposition format 0.0.4), carries the
 * families the issue names, with bounded labels (route patterns, agency ids) and no personal data.
 */

const certsDir = makeCerts();
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/** A strict reader of the text format: throws on any line it does not understand. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const familyOf = (name: string) => {
    for (const [fname, f] of families) {
      const suffixes = SUFFIXES[f.type] ?? [''];
      if (suffixes.some((s) => `${fname}${s}` === name)) return f;
    }
    throw new Error(`sample ${name} has no # TYPE`);
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
      const f = families.get(name) ?? { type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) {
          throw new Error(`bad type ${rest}`);
        }
        f.type = rest;
      } else f.help = rest;
      families.set(name, f);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const [, name = '', , body = '', raw = ''] = m;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      if (!l) throw new Error(`bad labels in: ${line}`);
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client
    // writes "Nan").
    const special = raw.toLowerCase();
    const value =
      special === '+inf' ? Infinity : special === '-inf' ? -Infinity : special === 'nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && special !== 'nan') throw new Error(`bad value in: ${line}`);
    familyOf(name).samples.push({ name, labels, value });
  }
  return families;
}

function get(url: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }),
        );
      })
      .on('error', reject);
  });
}

function value(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const f = [...families.values()].find((x) => x.samples.some((s) => s.name === name));
  const s = f?.samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value;
}

async function scrape(t: Test, url: string | undefined): Promise<Map<string, Family>> {
  t.ok(url, 'the metrics listener is up');
  const r = await get(`${url}/metrics`);
  t.equal(r.status, 200);
  t.match(r.type, /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(r.text);
}

t.test('the parser itself refuses what is not Prometheus text', async (t) => {
  t.throws(() => parsePrometheus('{"not": "metrics"}'));
  t.throws(() => parsePrometheus('# TYPE a counter\nb 1'), /no # TYPE/);
  t.throws(() => parsePrometheus('# TYPE a gauge\na{x=1} 1'), /bad labels/);
  t.equal(parsePrometheus('# TYPE a gauge\na{x="1",y="a\\"b"} 2.5').get('a')?.samples[0]?.labels.y, 'a"b');
});

t.test('GET /metrics parses as Prometheus text with the families of the issue', async (t) => {
  const receiver = await startReceiver(t, certsDir);
  setWebhookUrl(certsDir, POLICE, receiver.url(`/hook/${POLICE}`));
  const gw = await startNotifyGateway(t, { certsDir, env: { METRICS_PORT: '0' } });
  t.match(gw.gateway.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'bound to loopback by default');
  const nhs = validNhsNumberFrom(985_000_000);
  const created = await gw.call(
    CSC,
    'social_worker',
    'POST',
    '/v1/requests',
    requestBody({
      subject: {
        type: 'child',
        nhsNumber: nhs,
        name: { given: 'Metric', family: 'Childe' },
        dateOfBirth: '2017-01-01',
      },
    }),
  );
  t.equal(created.status, 201, created.text);
  t.equal((await gw.call(CSC, 'social_worker', 'GET', `/v1/requests/${created.json.id}`)).status, 200);
  t.equal((await gw.call(CSC, 'social_worker', 'GET', '/v1/nowhere')).status, 404);
  t.ok(await receiver.waitFor((ds) => ds.length === 1), 'the webhook was delivered');
  await gw.gateway.ledger.flush();

  const raw = (await get(`${gw.gateway.metricsUrl}/metrics`)).text;
  for (const p of [nhs, 'Metric', 'Childe', '2017-01-01', created.json.id]) {
    t.notOk(raw.includes(p), `no ${p === created.json.id ? 'request id' : 'personal data'} in the metrics`);
  }
  let m = await scrape(t, gw.gateway.metricsUrl);
  const types: Record<string, string> = {
    sgw_http_requests_total: 'counter',
    sgw_http_request_duration_seconds: 'histogram',
    sgw_ledger_entries: 'gauge',
    sgw_ledger_size: 'gauge',
    sgw_ledger_checkpoint_age_seconds: 'gauge',
    sgw_outbox_backlog: 'gauge',
    sgw_outbox_oldest_age_seconds: 'gauge',
    sgw_outbox_requeued_total: 'counter',
    sgw_queue_jobs: 'gauge',
    sgw_queue_up: 'gauge',
    sgw_webhook_deliveries_total: 'counter',
    sgw_webhook_dead_letters: 'gauge',
    sgw_process_cpu_seconds_total: 'counter',
  };
  for (const [name, type] of Object.entries(types)) t.equal(m.get(name)?.type, type, `${name} is a ${type}`);

  t.equal(value(m, 'sgw_http_requests_total', { route: '/v1/requests', method: 'POST', status: '201' }), 1);
  t.equal(
    value(m, 'sgw_http_requests_total', { route: '/v1/requests/:id', method: 'GET', status: '200' }),
    1,
  );
  t.equal(value(m, 'sgw_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }), 1);
  t.equal(
    value(m, 'sgw_http_request_duration_seconds_count', { route: '/v1/requests', method: 'POST' }),
    1,
    'latency observed',
  );
  t.equal(
    value(m, 'sgw_http_request_duration_seconds_bucket', {
      route: '/v1/requests',
      method: 'POST',
      le: '+Inf',
    }),
    1,
  );
  const routes = new Set(m.get('sgw_http_requests_total')?.samples.map((s) => s.labels.route));
  t.notOk(
    [...routes].some((r) => /[0-9a-f]{8}-/.test(r ?? '')),
    'route patterns, never ids',
  );
  t.ok(
    (value(m, 'sgw_ledger_entries', { action: 'request.created', decision: 'permit' }) ?? 0) >= 1,
    'decisions',
  );
  t.ok((value(m, 'sgw_ledger_size') ?? 0) >= 1, 'ledger size');
  t.ok((value(m, 'sgw_ledger_checkpoint_age_seconds') ?? -1) >= 0, 'checkpoint age');
  t.equal(value(m, 'sgw_outbox_backlog'), 0);
  t.equal(value(m, 'sgw_outbox_oldest_age_seconds'), 0);
  t.equal(value(m, 'sgw_queue_up'), 1);
  t.equal(value(m, 'sgw_queue_jobs', { state: 'completed' }), 1, 'the delivered job');
  t.equal(value(m, 'sgw_webhook_deliveries_total', { agency: POLICE, result: 'delivered' }), 1);

  // The tally reads only what is new, and counts it.
  const r2 = await gw.call(
    CSC,
    'social_worker',
    'POST',
    '/v1/requests',
    requestBody({
      subject: { type: 'child', nhsNumber: validNhsNumberFrom(985_000_100) },
    }),
  );
  t.equal(r2.status, 201);
  await gw.gateway.ledger.flush();
  m = await scrape(t, gw.gateway.metricsUrl);
  t.ok(
    (value(m, 'sgw_ledger_entries', { action: 'request.created', decision: 'permit' }) ?? 0) >= 2,
    'the next scrape counts the new entry',
  );

  t.equal((await get(`${gw.gateway.metricsUrl}/other`)).status, 404, 'only /metrics');
  t.equal((await gw.call(CSC, 'social_worker', 'GET', '/metrics')).status, 404, 'not on the agencies port');
});

t.test('metrics answer while the database is away, with its gauges left empty', async (t) => {
  const gw = await startNotifyGateway(t, { certsDir, wipe: false, env: { METRICS_PORT: '0' } });
  const before = await scrape(t, gw.gateway.metricsUrl);
  t.equal(before.get('sgw_ledger_size')?.samples.length, 1, 'the ledger size is there while all is well');
  t.equal(value(before, 'sgw_queue_up'), 1, 'the first scrape already knows the queue is up');
  const name = gw.database?.name ?? '';
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  t.teardown(async () => {
    await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    await admin.end();
  });
  await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  const r = await get(`${gw.gateway.metricsUrl}/metrics`);
  t.equal(r.status, 200, 'the scrape answers');
  const during = parsePrometheus(r.text);
  t.ok(Number.isNaN(value(during, 'sgw_ledger_size')), 'the ledger size is unknown, not stale');
  t.ok(Number.isNaN(value(during, 'sgw_outbox_backlog')), 'so is the backlog (not 0)');
  t.equal(during.get('sgw_ledger_entries')?.samples.length ?? 0, 0, 'no stale series of a labelled gauge');
  t.ok(during.get('sgw_http_requests_total'), 'what the process knows itself is still there');
});

t.test('metrics answer while Redis is down; no listener without METRICS_PORT', async (t) => {
  const gw = await startNotifyGateway(t, {
    certsDir,
    wipe: false,
    env: { METRICS_PORT: '0', REDIS_URL: 'redis://127.0.0.1:1' },
  });
  const m = await scrape(t, gw.gateway.metricsUrl);
  t.equal(value(m, 'sgw_queue_up'), 0, 'the queue is reported down');
  t.equal(m.get('sgw_queue_jobs')?.samples.length, 0, 'no stale depths');
  const r = await gw.call(
    CSC,
    'social_worker',
    'POST',
    '/v1/requests',
    requestBody({
      subject: { type: 'child', nhsNumber: validNhsNumberFrom(985_000_200) },
    }),
  );
  t.equal(r.status, 201);
  t.ok(
    await until(async () => value(await scrape(t, gw.gateway.metricsUrl), 'sgw_outbox_backlog') === 1, 5000),
    'the backlog grows while Redis is down',
  );

  const plain = await startNotifyGateway(t, {
    certsDir,
    wipe: false,
    env: { REDIS_URL: 'redis://127.0.0.1:1' },
  });
  t.equal(plain.gateway.metricsUrl, undefined);
});
