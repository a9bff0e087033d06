import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import t from 'tap';
import { loggerOptions, pathOnly, serializeError } from '../../src/http/logging.js';
import { genRequestId, registerProblemHandling } from '../../src/http/problem.js';
import { certPaths, mintToken } from '../../src/registry/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { AGENCIES, makeCerts } from '../helpers/gateway.js';
import { httpsRequest } from '../helpers/https.js';

const NHS = '9434765919';
const FAMILY = 'Zebedee-Quartermain';
const POSTCODE = 'ZZ99 3WZ';

function captureStream(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

t.test('pathOnly and serializeError', async (t) => {
  t.equal(pathOnly(`/v1/flags?nhsNumber=${NHS}`), '/v1/flags');
  t.equal(pathOnly('/v1/flags'), '/v1/flags');
  const err = Object.assign(new Error(`duplicate key value (nhs_number)=(${NHS})`), { code: '23505' });
  const out = serializeError(err);
  t.equal(out.type, 'Error');
  t.equal(out.code, '23505');
  t.equal(out.message, '[withheld]');
  t.notMatch(JSON.stringify(out), NHS, 'the message is not in the stack either');
  t.match(out.stack, /logging\.test\.ts/, 'the stack frames are kept');
  t.same(serializeError('a string').type, 'string');
});

t.test(
  'loggerOptions: no query string, authorization header, body or error message in the log',
  async (t) => {
    const { stream, lines } = captureStream();
    const app = Fastify({
      logger: { ...(loggerOptions('trace') as object), stream },
      genReqId: genRequestId,
      requestIdHeader: false,
    });
    registerProblemHandling(app);
    app.post('/echo', async (request) => {
      // A careless handler logging what it received: the redaction still holds.
      request.log.info({ body: request.body, headers: request.headers }, 'received');
      request.log.info({ subject: { nhsNumber: NHS } }, 'subject');
      request.log.info({ payload: request.body }, 'payload');
      return { ok: true };
    });
    app.get('/fail', async () => {
      throw new Error(`insert failed for ${NHS} ${FAMILY}`);
    });
    await app.ready();
    t.teardown(() => app.close());

    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdG9rZW4ifQ.c2lnbmF0dXJl';
    const body = {
      subject: { type: 'child', nhsNumber: NHS, name: { given: 'Ada', family: FAMILY }, postcode: POSTCODE },
    };
    const res = await app.inject({
      method: 'POST',
      url: `/echo?nhsNumber=${NHS}&family=${FAMILY}`,
      headers: { authorization: `Bearer ${token}`, cookie: 'session=secret-cookie' },
      payload: body,
    });
    t.equal(res.statusCode, 200);
    const failed = await app.inject({
      method: 'GET',
      url: `/fail?nhsNumber=${NHS}`,
      headers: { authorization: `Bearer ${token}` },
    });
    t.equal(failed.statusCode, 500);

    const log = lines.join('\n');
    t.ok(lines.length >= 6, 'the log was captured');
    t.match(log, /"url":"\/echo"/, 'requests are logged by path');
    t.match(log, /unhandled error/, 'the error is logged');
    t.match(log, /\[withheld\]/);
    t.notMatch(log, NHS, 'no NHS number');
    t.notMatch(log, FAMILY, 'no name');
    t.notMatch(log, POSTCODE, 'no postcode');
    t.notMatch(log, token, 'no token');
    t.notMatch(log, 'secret-cookie', 'no cookie');
    t.notMatch(log, /Bearer/);
    t.notMatch(log, /\?/, 'no query string anywhere');
  },
);

t.test(
  'requests are logged by their route pattern; an unmatched path with its segments masked',
  async (t) => {
    const { stream, lines } = captureStream();
    const app = Fastify({
      logger: { ...(loggerOptions('info') as object), stream },
      genReqId: genRequestId,
      requestIdHeader: false,
    });
    registerProblemHandling(app);
    app.get('/v1/requests/:id', async () => ({ ok: true }));
    await app.ready();
    t.teardown(() => app.close());
    const id = 'b7f7c1de-0f7e-4a53-9a43-77f2c0f5e0aa';
    t.equal((await app.inject({ url: `/v1/requests/${id}?nhsNumber=${NHS}` })).statusCode, 200);
    for (const url of [
      `/v1/x/${NHS}-unauth`,
      `/v1/requests/${id}/${FAMILY}`,
      `/${NHS}`,
      `/health/${FAMILY}/x`,
    ]) {
      t.equal((await app.inject({ url })).statusCode, 404, url);
    }
    const urls = lines.map((l) => JSON.parse(l).req?.url).filter((u) => u !== undefined);
    t.same(urls, ['/v1/requests/:id', '/v1/*/*', '/v1/*/*/*', '/*', '/health/*/*']);
    const log = lines.join('\n');
    t.notMatch(log, id, 'no id from a path');
    t.notMatch(log, NHS, 'no NHS number from a path');
    t.notMatch(log, FAMILY, 'no name from a path');
  },
);

t.test('a real `sgw serve` process logs no query string, token or body, and stops on SIGTERM', async (t) => {
  const certsDir = makeCerts();
  const dataDir = path.join(os.tmpdir(), `sgw-log-data-${process.pid}`);
  const database = await createTestDatabase();
  t.teardown(async () => {
    await database.drop();
    rmSync(certsDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      PORT: '0',
      HOST: '127.0.0.1',
      SGW_CERTS_DIR: certsDir,
      SGW_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      LOG_LEVEL: 'trace',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 30_000);
    const onData = (c: Buffer) => {
      output += c.toString();
      const m = /listening on (https:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => reject(new Error(`gateway exited:\n${output}`)));
  });

  const p = certPaths(certsDir);
  const creds = {
    ca: readFileSync(p.caCert, 'utf8'),
    cert: readFileSync(p.clientCert(AGENCIES.csc.id), 'utf8'),
    key: readFileSync(p.clientKey(AGENCIES.csc.id), 'utf8'),
  };
  const token = mintToken(certsDir, {
    agency: AGENCIES.csc.id,
    sub: 'sw-log',
    role: 'social_worker',
    audience: 'sgw',
    ttlSeconds: 300,
  });
  const auth = { authorization: `Bearer ${token}` };
  const ok = await httpsRequest(`${url}/v1/agencies?nhsNumber=${NHS}&family=${FAMILY}`, creds, {
    headers: auth,
  });
  t.equal(ok.status, 200);
  const posted = await httpsRequest(`${url}/v1/agencies?nhsNumber=${NHS}`, creds, {
    method: 'POST',
    headers: auth,
    body: { subject: { nhsNumber: NHS, name: { given: 'Ada', family: FAMILY } } },
  });
  t.equal(posted.status, 404);
  const badToken = await httpsRequest(`${url}/v1/agencies?postcode=${encodeURIComponent(POSTCODE)}`, creds, {
    headers: { authorization: `Bearer ${token}x` },
  });
  t.equal(badToken.status, 401);
  const unmatched = await httpsRequest(`${url}/v1/x/${NHS}-unauth`, { ca: creds.ca });
  t.equal(unmatched.status, 404, 'an unauthenticated request to no route');
  const byId = await httpsRequest(`${url}/v1/requests/${FAMILY}`, creds, { headers: auth });
  t.equal(byId.status, 404);
  const health = await httpsRequest(`${url}/health/ready?nhsNumber=${NHS}`, { ca: creds.ca });
  t.equal(health.status, 200);

  child.kill('SIGTERM');
  const code = await exited;
  t.equal(code, 0, 'a clean exit on SIGTERM');

  // The start-up banner (plain text) shows a curl line with a placeholder header; the log is JSON lines.
  const logLines = output.split('\n').filter((l) => l.startsWith('{'));
  t.ok(logLines.length >= 8, 'JSON log lines were captured');
  for (const l of logLines) t.doesNotThrow(() => JSON.parse(l));
  const log = logLines.join('\n');
  t.match(log, /incoming request/, 'request logs were captured');
  t.match(output, /"url":"\/v1\/agencies"/);
  t.match(output, /"url":"\/v1\/\*\/\*"/, 'the unmatched path, masked');
  t.match(output, /"url":"\/v1\/requests\/:id"/, 'the route pattern');
  t.notMatch(output, NHS, 'no NHS number');
  t.notMatch(output, FAMILY, 'no name');
  t.notMatch(output, /ZZ99/, 'no postcode');
  t.notMatch(output, token.split('.')[2] ?? '-', 'no token signature');
  t.notMatch(output, token.split('.')[1] ?? '-', 'no token payload');
  t.notMatch(log, /Bearer|authorization/i, 'no authorization header');
  t.notMatch(log, /\?/, 'no query string in the log');
  t.notMatch(log, /"body"|"payload"|"subject"/, 'no body');
});
