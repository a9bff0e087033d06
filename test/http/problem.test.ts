import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { BODY_LIMIT, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { AppError } from '../../src/http/errors.js';
import { createLedger } from '../../src/ledger/index.js';
import { PolicyStore } from '../../src/policy/index.js';
import { certPaths, RegistryView } from '../../src/registry/index.js';
import { openRedis, openStore } from '../../src/store/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { makeCerts } from '../helpers/gateway.js';
import { type HttpResult, httpsRequest, type RequestOptions } from '../helpers/https.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET = 'password=hunter2 host=db.internal';

/** A gateway from buildApp with test-only routes, listening over real TLS. */
async function startApp(): Promise<{ app: FastifyInstance; url: string; ca: string }> {
  const certsDir = makeCerts();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-data-'));
  const database = await createTestDatabase();
  const config = loadConfig({
    PORT: '0',
    SGW_CERTS_DIR: certsDir,
    SGW_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
  });
  const db = await openStore(config);
  const redis = openRedis(config.redisUrl);
  const registry = new RegistryView(certsDir);
  const silent = { info() {}, warn() {}, error() {} };
  const policies = await PolicyStore.open(path.resolve('policies'), { logger: silent });
  const ledger = createLedger({ db, certsDir, gatewayId: config.gatewayId });
  const p = certPaths(certsDir);
  const ca = readFileSync(p.caCert, 'utf8');
  const app = await buildApp({
    config,
    db,
    redis,
    registry,
    policies,
    ledger,
    tls: { key: readFileSync(p.serverKey, 'utf8'), cert: readFileSync(p.serverCert, 'utf8'), ca },
  });
  app.post(
    '/test/echo',
    {
      schema: {
        body: Type.Object(
          {
            nhsNumber: Type.String({ pattern: '^[0-9]{10}$' }),
            count: Type.Integer({ minimum: 1 }),
            nested: Type.Optional(Type.Object({ flag: Type.Boolean() })),
          },
          { additionalProperties: false },
        ),
        querystring: Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1 })) }),
      },
    },
    async (request) => ({ received: request.body }),
  );
  app.post('/test/any', async (request) => ({ received: request.body }));
  app.get('/test/param/:id', async () => ({ ok: true }));
  app.get('/test/boom', async () => {
    throw new Error(`query failed: ${SECRET}`);
  });
  app.get('/test/boom-sync', () => {
    throw new TypeError(`Cannot read properties of undefined (reading '${SECRET}')`);
  });
  app.get('/test/app-error', async () => {
    throw new AppError('conflict', 'Already decided.');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  t.teardown(async () => {
    await app.close();
    policies.close();
    redis.disconnect();
    await db.close();
    await database.drop();
    rmSync(certsDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, url: `https://127.0.0.1:${port}`, ca };
}

const { app, url, ca } = await startApp();
const req = (urlPath: string, opts?: RequestOptions): Promise<HttpResult> =>
  httpsRequest(`${url}${urlPath}`, { ca }, opts);

/** Every error: RFC 9457 fields, the contract's code, problem+json, x-request-id = requestId, no internals. */
function assertProblem(t: Test, res: HttpResult, status: number, code: string): void {
  t.equal(res.status, status, `status ${status}`);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  const body = res.json as Record<string, unknown>;
  t.ok(body, 'a JSON body');
  t.equal(body.status, status);
  t.equal(body.code, code);
  t.equal(body.type, `https://sgw.invalid/problems/${code}`);
  t.type(body.title, 'string');
  t.ok((body.title as string).length > 0);
  t.type(body.detail, 'string');
  t.type(body.requestId, 'string');
  t.equal(res.headers['x-request-id'], body.requestId, 'x-request-id header equals requestId');
  t.notMatch(res.text, /\bat .+\(.*:\d+:\d+\)|node_modules|\/src\/|stack/i, 'no stack trace');
  t.notMatch(res.text, /hunter2|db\.internal/, 'no internal message');
  t.notMatch(res.text, /FST_ERR/, 'no Fastify error code');
}

t.test('unknown route: 404 not_found', async (t) => {
  assertProblem(t, await req('/no/such/route'), 404, 'not_found');
  assertProblem(t, await req('/v1/no-such-thing'), 404, 'not_found');
  assertProblem(t, await req('/test/echo', { method: 'DELETE' }), 404, 'not_found');
});

t.test(
  'malformed URL and overlong path parameter: 400 validation_failed, not Fastify’s own JSON',
  async (t) => {
    for (const p of ['/%zz', '/health/live%', '/v1/agencies%E0%A4%A']) {
      const res = await req(p);
      assertProblem(t, res, 400, 'validation_failed');
      t.notMatch(res.text, /%zz|%E0|valid url component/, `${p}: the URL is not echoed`);
    }
    assertProblem(t, await req(`/test/param/${'x'.repeat(150)}`), 400, 'validation_failed');
    t.equal((await req('/test/param/short')).status, 200);
  },
);

t.test('bad JSON: 400 validation_failed', async (t) => {
  const res = await req('/test/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    rawBody: '{"nhsNumber": "943476591',
  });
  assertProblem(t, res, 400, 'validation_failed');
  t.notMatch(res.text, /943476591/, 'the body is not echoed');
  const empty = await req('/test/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    rawBody: '',
  });
  assertProblem(t, empty, 400, 'validation_failed');
});

t.test('body over 256 KiB: 413 payload_too_large', async (t) => {
  t.equal(BODY_LIMIT, 256 * 1024);
  const big = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT + 10) });
  assertProblem(
    t,
    await req('/test/any', { method: 'POST', headers: { 'content-type': 'application/json' }, rawBody: big }),
    413,
    'payload_too_large',
  );
  // Just under the limit is accepted.
  const fits = JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT - 100) });
  const ok = await req('/test/any', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    rawBody: fits,
  });
  t.equal(ok.status, 200);
  // Without a content-length (chunked), the limit still holds.
  const chunked = await app.inject({
    method: 'POST',
    url: '/test/any',
    headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    payload: big,
  });
  t.equal(chunked.statusCode, 413);
  t.equal(chunked.json().code, 'payload_too_large');
});

t.test('non-JSON body: 415 unsupported_media_type', async (t) => {
  for (const type of [
    'text/plain',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ]) {
    const res = await req('/test/any', { method: 'POST', headers: { 'content-type': type }, rawBody: 'a=1' });
    assertProblem(t, res, 415, 'unsupported_media_type');
  }
});

t.test('schema failure: 400 validation_failed with errors [{path, message}]', async (t) => {
  const res = await req('/test/echo', {
    method: 'POST',
    body: { count: 0, extra: 'x', nested: { flag: 'maybe' } },
  });
  assertProblem(t, res, 400, 'validation_failed');
  const errors = res.json.errors as Array<{ path: string; message: string }>;
  t.ok(Array.isArray(errors) && errors.length >= 3, 'every failure is listed');
  for (const e of errors) {
    t.type(e.path, 'string');
    t.type(e.message, 'string');
    t.same(Object.keys(e).sort(), ['message', 'path']);
  }
  const paths = errors.map((e) => e.path);
  t.ok(paths.includes('/nhsNumber'), 'missing property named');
  t.ok(paths.includes('/count'), 'out-of-range property named');
  t.ok(paths.includes('/extra'), 'additional property named');
  t.ok(paths.includes('/nested/flag'), 'nested property named');

  const pattern = await req('/test/echo', { method: 'POST', body: { nhsNumber: 'abc', count: 1 } });
  assertProblem(t, pattern, 400, 'validation_failed');
  t.same(
    pattern.json.errors.map((e: { path: string }) => e.path),
    ['/nhsNumber'],
  );
  t.notMatch(pattern.text, /"abc"/, 'the failing value is not echoed');

  const query = await req('/test/echo?page=0', {
    method: 'POST',
    body: { nhsNumber: '9434765919', count: 1 },
  });
  assertProblem(t, query, 400, 'validation_failed');
  t.match(query.json.errors[0].path, /querystring/);
  t.match(query.json.errors[0].path, /page/);

  const good = await req('/test/echo', { method: 'POST', body: { nhsNumber: '9434765919', count: 2 } });
  t.equal(good.status, 200);
  t.same(good.json, { received: { nhsNumber: '9434765919', count: 2 } });
});

t.test('schema failure through app.inject too', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { count: 'x' } });
  t.equal(res.statusCode, 400);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  const body = res.json() as { code: string; errors: Array<{ path: string; message: string }> };
  t.equal(body.code, 'validation_failed');
  t.ok(body.errors.some((e) => e.path === '/count' && e.message.length > 0));
});

t.test('an internal error: 500 with nothing internal leaked', async (t) => {
  for (const p of ['/test/boom', '/test/boom-sync']) {
    const res = await req(p);
    assertProblem(t, res, 500, 'internal_error');
    t.same(Object.keys(res.json).sort(), ['code', 'detail', 'requestId', 'status', 'title', 'type']);
    t.notMatch(res.text, /Cannot read|query failed|TypeError/);
  }
});

t.test('an AppError keeps its code and detail', async (t) => {
  const res = await req('/test/app-error');
  assertProblem(t, res, 409, 'conflict');
  t.equal(res.json.detail, 'Already decided.');
});

t.test("x-request-id: on every response; a caller's UUID is echoed, anything else replaced", async (t) => {
  for (const p of ['/health/live', '/health/ready', '/no/such/route', '/v1/agencies']) {
    const res = await req(p);
    t.match(res.headers['x-request-id'], UUID, `${p} has a generated x-request-id`);
  }
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) ids.add(String((await req('/health/live')).headers['x-request-id']));
  t.equal(ids.size, 5, 'request ids are unique');

  for (const safe of ['0b6d1f4e-2a3c-4d5e-8f90-123456789abc', '0B6D1F4E-2A3C-4D5E-8F90-123456789ABC']) {
    const res = await req('/no/such/route', { headers: { 'x-request-id': safe } });
    t.equal(res.headers['x-request-id'], safe, `${safe} echoed`);
    t.equal(res.json.requestId, safe);
    t.equal((await req('/health/live', { headers: { 'x-request-id': safe } })).headers['x-request-id'], safe);
  }
  for (const unsafe of [
    '9434765919',
    'abc-123',
    'has space',
    '<script>',
    'a/b',
    'A'.repeat(65),
    'x;rm -rf',
    '',
  ]) {
    const res = await req('/no/such/route', { headers: { 'x-request-id': unsafe } });
    t.match(res.headers['x-request-id'], UUID, `${JSON.stringify(unsafe)} replaced`);
    t.equal(res.json.requestId, res.headers['x-request-id']);
  }
});

t.test('/v1 without a client certificate (plain problem shape; the wall is tested elsewhere)', async (t) => {
  assertProblem(t, await req('/v1/agencies'), 401, 'unauthenticated');
});

/** Writes raw bytes over TLS and returns the raw response. */
function rawTls(bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca, servername: 'localhost' }, () => {
      socket.write(bytes);
    });
    let out = '';
    socket.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (out ? resolve(out) : reject(err)));
    socket.on('close', () => resolve(out));
  });
}

t.test('requests the HTTP parser refuses still get problem+json and x-request-id', async (t) => {
  const cases: Array<[string, string]> = [
    ['headers over 16 KiB', `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['a garbled request line', 'NOT HTTP AT ALL\r\n\r\n'],
  ];
  for (const [label, bytes] of cases) {
    const raw = await rawTls(bytes);
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    t.match(head, /^HTTP\/1\.1 400 /, `${label}: 400`);
    t.match(head, /content-type: application\/problem\+json/i, `${label}: problem+json`);
    const rid = /x-request-id: (\S+)/i.exec(head)?.[1];
    t.match(rid, UUID, `${label}: x-request-id`);
    const problem = JSON.parse(body) as Record<string, unknown>;
    t.equal(problem.code, 'validation_failed');
    t.equal(problem.status, 400);
    t.equal(problem.requestId, rid);
  }
});

t.test(
  'HTTP/1.1 without a Host header: 400 as problem details (RFC 9112 section 3.2); HTTP/1.0 is served',
  async (t) => {
    for (const [label, bytes] of [
      ['a GET', 'GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n'],
      [
        'a POST with a body',
        'POST /test/any HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
      ],
      ['an unknown route', 'GET /no/such/route HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ] as const) {
      const raw = await rawTls(bytes);
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      t.match(head, /^HTTP\/1\.1 400 /, `${label}: 400`);
      t.match(head, /content-type: application\/problem\+json/i, `${label}: problem+json`);
      t.match(head, /strict-transport-security: /i, `${label}: the security headers`);
      const rid = /x-request-id: (\S+)/i.exec(head)?.[1];
      t.match(rid, UUID, `${label}: x-request-id`);
      const problem = JSON.parse(body) as Record<string, unknown>;
      t.equal(problem.code, 'validation_failed', label);
      t.equal(problem.requestId, rid, label);
    }
    const old = await rawTls('GET /health/live HTTP/1.0\r\n\r\n');
    t.match(old, /^HTTP\/1\.1 200 /, 'HTTP/1.0 needs no Host');
  },
);

t.test(
  'an Expect the gateway does not know is ignored, not a bare 417 (RFC 9110 section 10.1.1)',
  async (t) => {
    const served = await rawTls(
      'GET /health/live HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\nConnection: close\r\n\r\n',
    );
    t.match(served, /^HTTP\/1\.1 200 /, 'the request is served');
    const raw = await rawTls(
      'GET /no/such/route HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\nConnection: close\r\n\r\n',
    );
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    t.match(head, /^HTTP\/1\.1 404 /, 'an error is the route’s own');
    t.match(head, /content-type: application\/problem\+json/i, 'as problem details');
    t.equal((JSON.parse(body) as { code: string }).code, 'not_found');
    const posted = await rawTls(
      'POST /test/any HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    );
    t.match(posted, /HTTP\/1\.1 200 /, '100-continue still works');
  },
);
