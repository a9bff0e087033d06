import path from 'node:path';
import t from 'tap';
import { runCli } from '../../src/cli/run.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';

t.test('defaults follow contract section 14', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 8443);
  t.equal(c.host, '127.0.0.1');
  t.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  t.equal(c.databaseUrl, undefined, 'DATABASE_URL unset → embedded PGlite');
  t.equal(c.dataDir, path.resolve('./var'));
  t.ok(path.isAbsolute(c.dataDir));
  t.equal(c.certsDir, path.resolve('./certs'));
  t.equal(c.policiesDir, path.resolve('./policies'));
  t.equal(c.gatewayId, 'sgw');
  t.equal(c.logLevel, 'info');
});

t.test('an empty DATABASE_URL means unset', async (t) => {
  t.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined);
});

t.test('values given are used', async (t) => {
  const c = loadConfig({
    PORT: '9443',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u@db:5432/sgw',
    REDIS_URL: 'rediss://cache:6380',
    SGW_DATA_DIR: '/tmp/sgw-data',
    SGW_CERTS_DIR: 'rel/certs',
    SGW_POLICIES_DIR: '/etc/sgw/policies',
    SGW_GATEWAY_ID: 'gw-north-1',
    LOG_LEVEL: 'debug',
  });
  t.equal(c.port, 9443);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.databaseUrl, 'postgres://u@db:5432/sgw');
  t.equal(c.redisUrl, 'rediss://cache:6380');
  t.equal(c.dataDir, '/tmp/sgw-data');
  t.equal(c.certsDir, path.resolve('rel/certs'));
  t.equal(c.policiesDir, '/etc/sgw/policies');
  t.equal(c.gatewayId, 'gw-north-1');
  t.equal(c.logLevel, 'debug');
  t.equal(loadConfig({ DATABASE_URL: 'postgresql://x/y' }).databaseUrl, 'postgresql://x/y');
});

t.test('only the env passed in is read, not process.env underneath it', async (t) => {
  const saved = { PORT: process.env.PORT, DATABASE_URL: process.env.DATABASE_URL };
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  process.env.PORT = '9999';
  process.env.DATABASE_URL = 'postgres://leak/leak';
  const c = loadConfig({});
  t.equal(c.port, 8443);
  t.equal(c.databaseUrl, undefined);
  t.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined);
});

t.test('webhooks and metrics (contract section 14)', async (t) => {
  const d = loadConfig({});
  t.same(d.webhooks, {
    maxAttempts: 12,
    backoffMs: 60_000,
    timeoutMs: 10_000,
    allowHttpLoopback: false,
    caFile: undefined,
  });
  t.equal(d.metrics, undefined, 'METRICS_PORT unset: no metrics listener');
  t.same(loadConfig({ METRICS_PORT: '' }).metrics, undefined, 'empty means unset');
  t.same(
    loadConfig({ METRICS_PORT: '9464' }).metrics,
    { port: 9464, host: '127.0.0.1' },
    'loopback by default',
  );
  t.same(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics, {
    port: 9464,
    host: '0.0.0.0',
  });
  const c = loadConfig({
    SGW_WEBHOOK_MAX_ATTEMPTS: '3',
    SGW_WEBHOOK_BACKOFF_MS: '250',
    SGW_WEBHOOK_TIMEOUT_MS: '2000',
    SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    SGW_WEBHOOK_CA_FILE: 'rel/ca.pem',
  });
  t.same(c.webhooks, {
    maxAttempts: 3,
    backoffMs: 250,
    timeoutMs: 2000,
    allowHttpLoopback: true,
    caFile: path.resolve('rel/ca.pem'),
  });
});

t.test('connection limits and timeouts: defaults and values given', async (t) => {
  const d = loadConfig({});
  t.same(d.http, {
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    handshakeTimeoutMs: 10_000,
    maxConnections: 1000,
    bodyMinBytesPerSecond: 1024,
    bodyRateGraceMs: 5000,
  });
  t.equal(d.rateLimits.authFailures, 60);
  t.equal(d.auditReadWaitMs, 2000);
  t.equal(loadConfig({ SGW_AUDIT_READ_WAIT_MS: '0' }).auditReadWaitMs, 0);
  t.equal(d.databaseQueryTimeoutMs, 15_000);
  t.equal(loadConfig({ SGW_DB_QUERY_TIMEOUT_MS: '2500' }).databaseQueryTimeoutMs, 2500);
  const c = loadConfig({
    SGW_REQUEST_TIMEOUT_MS: '5000',
    SGW_HEADERS_TIMEOUT_MS: '5000',
    SGW_KEEP_ALIVE_TIMEOUT_MS: '3000',
    SGW_IDLE_TIMEOUT_MS: '7000',
    SGW_TLS_HANDSHAKE_TIMEOUT_MS: '2000',
    SGW_MAX_CONNECTIONS: '50',
    SGW_BODY_MIN_BYTES_PER_SECOND: '10',
    SGW_BODY_RATE_GRACE_MS: '0',
    SGW_AUTH_FAILURES_PER_MINUTE: '7',
  });
  t.same(c.http, {
    requestTimeoutMs: 5000,
    headersTimeoutMs: 5000,
    keepAliveTimeoutMs: 3000,
    idleTimeoutMs: 7000,
    handshakeTimeoutMs: 2000,
    maxConnections: 50,
    bodyMinBytesPerSecond: 10,
    bodyRateGraceMs: 0,
  });
  t.equal(c.rateLimits.authFailures, 7);
});

const BAD: Array<[string, string]> = [
  ['PORT', 'abc'],
  ['PORT', '70000'],
  ['PORT', '-1'],
  ['LOG_LEVEL', 'loud'],
  ['REDIS_URL', 'http://x'],
  ['DATABASE_URL', 'mysql://x'],
  ['SGW_GATEWAY_ID', 'my gateway'],
  ['SGW_GATEWAY_ID', 'UPPER'],
  ['SGW_RATE_LIMIT_PER_PRACTITIONER', '0'],
  ['SGW_WEBHOOK_MAX_ATTEMPTS', '0'],
  ['SGW_WEBHOOK_MAX_ATTEMPTS', 'many'],
  ['SGW_WEBHOOK_BACKOFF_MS', '0'],
  ['SGW_WEBHOOK_TIMEOUT_MS', '10'],
  ['SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK', 'maybe'],
  ['METRICS_PORT', 'abc'],
  ['METRICS_PORT', '70000'],
  ['SGW_AUTH_FAILURES_PER_MINUTE', '0'],
  ['SGW_REQUEST_TIMEOUT_MS', 'soon'],
  ['SGW_HEADERS_TIMEOUT_MS', '0'],
  ['SGW_KEEP_ALIVE_TIMEOUT_MS', '-5'],
  ['SGW_IDLE_TIMEOUT_MS', '1.5'],
  ['SGW_TLS_HANDSHAKE_TIMEOUT_MS', '0'],
  ['SGW_MAX_CONNECTIONS', '0'],
  ['SGW_BODY_MIN_BYTES_PER_SECOND', '0'],
  ['SGW_BODY_RATE_GRACE_MS', '-1'],
  ['SGW_HEADERS_TIMEOUT_MS', '40000'],
  ['SGW_AUDIT_READ_WAIT_MS', '-1'],
  ['SGW_AUDIT_READ_WAIT_MS', '60000'],
  ['SGW_DB_QUERY_TIMEOUT_MS', '50'],
  ['SGW_DB_QUERY_TIMEOUT_MS', 'soon'],
];

for (const [name, value] of BAD) {
  t.test(`${name}=${value} is refused with a message naming ${name}`, async (t) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    t.type(caught, ConfigError);
    t.match((caught as Error).message, name);
  });
}

t.test('the CLI with a bad environment exits non-zero and says why on stderr', async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) };
  const code = await runCli(['agency', 'list'], io, { PORT: 'abc', SGW_CERTS_DIR: '/nonexistent' });
  t.not(code, 0);
  t.match(err.join('\n'), /PORT/);
  t.equal(out.join(''), '');

  err.length = 0;
  const code2 = await runCli(['serve'], io, { LOG_LEVEL: 'loud' });
  t.not(code2, 0);
  t.match(err.join('\n'), /LOG_LEVEL must be one of: fatal, error, warn, info, debug, trace, silent/);
});
