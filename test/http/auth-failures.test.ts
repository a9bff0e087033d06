import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { addAgency, initCa } from '../../src/registry/index.js';
import { makeCerts, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { type HttpResult, httpsRequest } from '../helpers/https.js';
import { POLICE } from '../helpers/ids.js';
import { agencySigningKey, claims, signEs256 } from '../helpers/jwt.js';

/**
 * Failed authentication is rate-limited: per client certificate once the certificate is good, per
 * remote address before. Beyond the limit a failing request is 429 with Retry-After; a valid token is
 * never refused for others' failures. The windows live in the shared Redis under this run's own gateway
 * id, so that no other test file's requests from 127.0.0.1 count here or are counted.
 */
const tag = randomBytes(4).toString('hex');
const GATEWAY_ID = `af-${tag}`;
const LIMIT = 5;

const certsDir = makeCerts();
const rogueDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-rogue-af-'));
initCa(rogueDir);
addAgency(rogueDir, { id: POLICE, name: 'Rogue', kind: 'police' });
const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
t.teardown(async () => {
  await redis.connect().catch(() => {});
  const keys = await redis.keys(`sgw:rl:${GATEWAY_ID}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(certsDir, { recursive: true, force: true });
  rmSync(rogueDir, { recursive: true, force: true });
});

const gw = await startTestGateway(t, {
  certsDir,
  env: { SGW_GATEWAY_ID: GATEWAY_ID, SGW_AUTH_FAILURES_PER_MINUTE: String(LIMIT) },
});
const key = agencySigningKey(certsDir, POLICE);
const goodToken = () =>
  signEs256(key.pem, { alg: 'ES256', kid: key.kid }, claims(POLICE, { aud: GATEWAY_ID }));
/** Signed by the agency's key over other claims: a valid-looking token whose signature fails. */
const badSignature = () => {
  const [h, , s] = goodToken().split('.') as [string, string, string];
  const p = Buffer.from(JSON.stringify(claims(POLICE, { aud: GATEWAY_ID, sub: 'intruder' }))).toString(
    'base64url',
  );
  return `${h}.${p}.${s}`;
};

function expectRateLimited(t: Test, r: HttpResult, what: string): void {
  t.equal(r.status, 429, `${what}: 429`);
  t.equal(r.json?.code, 'rate_limited');
  t.match(r.headers['content-type'], /^application\/problem\+json/);
  const retryAfter = Number(r.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 60, `${what}: Retry-After ${retryAfter} within the minute`);
}

t.test('a flood of bad-signature tokens over one certificate gets 429', async (t) => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ...gw.credentials(POLICE) });
  t.teardown(() => agent.destroy());
  const call = (token: string) =>
    httpsRequest(`${gw.url}/v1/agencies`, gw.credentials(POLICE), {
      agent,
      headers: { authorization: `Bearer ${token}` },
    });
  for (let i = 1; i <= LIMIT; i++) {
    const r = await call(badSignature());
    t.equal(r.status, 401, `failure ${i} of ${LIMIT}: 401`);
  }
  expectRateLimited(t, await call(badSignature()), 'the next failure');
  const flood = await Promise.all(Array.from({ length: 60 }, () => call(badSignature())));
  t.equal(
    flood.filter((r) => r.status === 429).length,
    60,
    'every failure of the flood is 429, not a 401 and never a 5xx',
  );
  expectRateLimited(t, await call('not-a-jwt'), 'a garbage token');

  const ok = await call(goodToken());
  t.equal(ok.status, 200, 'a valid token over the same certificate is still served');
  const other = await gw.call('gp-riverside', 'gp', 'GET', '/v1/agencies');
  t.equal(other.status, 200, "another agency's certificate has its own window");
  const otherBad = await httpsRequest(`${gw.url}/v1/agencies`, gw.credentials('gp-riverside'), {
    headers: { authorization: `Bearer ${badSignature()}` },
  });
  t.equal(otherBad.status, 401, 'and its own failures count from zero');
});

t.test('before a certificate is known, failures count per remote address', async (t) => {
  const ca = gw.credentials(POLICE).ca;
  const noCert = () =>
    httpsRequest(`${gw.url}/v1/agencies`, { ca }, { headers: { authorization: `Bearer ${goodToken()}` } });
  for (let i = 1; i <= LIMIT; i++) t.equal((await noCert()).status, 401, `no certificate ${i}: 401`);
  expectRateLimited(t, await noCert(), 'no certificate, over the limit');
  const rogue = {
    ca,
    cert: readFileSync(path.join(rogueDir, 'agencies', POLICE, 'client.crt'), 'utf8'),
    key: readFileSync(path.join(rogueDir, 'agencies', POLICE, 'client.key'), 'utf8'),
  };
  const r = await httpsRequest(`${gw.url}/v1/agencies`, rogue, {
    headers: { authorization: `Bearer ${goodToken()}` },
  });
  expectRateLimited(t, r, 'a certificate of another CA, from the same address');
  const ok = await httpsRequest(`${gw.url}/v1/agencies`, gw.credentials(POLICE), {
    headers: { authorization: `Bearer ${goodToken()}` },
  });
  t.equal(ok.status, 200, 'a good certificate and token from that address are served');
  const live = await httpsRequest(`${gw.url}/health/live`, { ca });
  t.equal(live.status, 200, '/health is not behind the wall');
});

t.test('the windows are shared through Redis by the gateways of one deployment', async (t) => {
  const second: TestGateway = await startTestGateway(t, {
    certsDir,
    env: { SGW_GATEWAY_ID: GATEWAY_ID, SGW_AUTH_FAILURES_PER_MINUTE: String(LIMIT) },
  });
  const r = await httpsRequest(`${second.url}/v1/agencies`, second.credentials(POLICE), {
    headers: { authorization: `Bearer ${badSignature()}` },
  });
  expectRateLimited(t, r, "the police certificate's failures, seen by another gateway");
});
