import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test as Tap } from 'tap';
import { addAgency, initCa, revokeAgencyCertificates, suspendAgency } from '../../src/registry/index.js';
import { AGENCIES, makeCerts, startTestGateway } from '../helpers/gateway.js';
import { httpsRequest } from '../helpers/https.js';
import { agencySigningKey, claims, signEs256 } from '../helpers/jwt.js';

const DAY = 86_400_000;
const police: string = AGENCIES.police.id;
const gp: string = AGENCIES.gp.id;

const certsDir = makeCerts();
addAgency(certsDir, {
  id: 'police-expired',
  name: 'Expired',
  kind: 'police',
  notBefore: new Date(Date.now() - 3 * DAY),
  notAfter: new Date(Date.now() - DAY),
});
addAgency(certsDir, { id: 'police-revoked', name: 'Revoked', kind: 'police' });
addAgency(certsDir, { id: 'gp-suspended', name: 'Suspended', kind: 'health' });

const rogueDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-rogue-'));
initCa(rogueDir);
addAgency(rogueDir, { id: police, name: 'Rogue', kind: 'police' });
t.teardown(() => {
  rmSync(rogueDir, { recursive: true, force: true });
  rmSync(certsDir, { recursive: true, force: true });
});

const gw = await startTestGateway(t, { certsDir });
const policeKey = agencySigningKey(certsDir, police);
const gpKey = agencySigningKey(certsDir, gp);

function asPolice(token: string | undefined, agency = police) {
  return gw.request(
    '/v1/agencies',
    gw.credentials(agency),
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
}

function policeToken(overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return signEs256(
    policeKey.pem,
    { alg: 'ES256', typ: 'JWT', kid: policeKey.kid, ...header },
    claims(police, overrides),
  );
}

function expect401(t: Tap, res: { status: number; json: { code?: string } }, what: string) {
  t.equal(res.status, 401, `${what}: status 401`);
  t.equal(res.json?.code, 'unauthenticated', `${what}: code unauthenticated`);
}

t.test('a valid certificate and token pass the wall', async (t) => {
  const res = await asPolice(policeToken());
  t.equal(res.status, 200);
  t.ok(Array.isArray(res.json));
});

t.test('certificate attacks', async (t) => {
  const token = policeToken();
  expect401(
    t,
    await gw.request(
      '/v1/agencies',
      { ca: gw.credentials(police).ca },
      { headers: { authorization: `Bearer ${token}` } },
    ),
    'no client certificate',
  );

  const rogue = {
    ca: gw.credentials(police).ca,
    cert: (await import('node:fs')).readFileSync(
      path.join(rogueDir, 'agencies', police, 'client.crt'),
      'utf8',
    ),
    key: (await import('node:fs')).readFileSync(
      path.join(rogueDir, 'agencies', police, 'client.key'),
      'utf8',
    ),
  };
  expect401(
    t,
    await gw.request('/v1/agencies', rogue, { headers: { authorization: `Bearer ${token}` } }),
    'rogue CA with the same CN',
  );

  const expiredKey = agencySigningKey(certsDir, 'police-expired');
  const expiredToken = signEs256(
    expiredKey.pem,
    { alg: 'ES256', kid: expiredKey.kid },
    claims('police-expired'),
  );
  expect401(t, await asPolice(expiredToken, 'police-expired'), 'expired certificate');

  const suspendedKey = agencySigningKey(certsDir, 'gp-suspended');
  const suspendedToken = signEs256(
    suspendedKey.pem,
    { alg: 'ES256', kid: suspendedKey.kid },
    claims('gp-suspended', { role: 'gp' }),
  );
  t.equal((await asPolice(suspendedToken, 'gp-suspended')).status, 200, 'active before suspension');
  suspendAgency(certsDir, 'gp-suspended');
  await waitFor(async () => (await asPolice(suspendedToken, 'gp-suspended')).status === 401);
  expect401(t, await asPolice(suspendedToken, 'gp-suspended'), 'suspended agency');
  t.notOk(
    (await asPolice(policeToken())).json.some((a: { id: string }) => a.id === 'gp-suspended'),
    'suspended agency left the directory',
  );
});

t.test(
  'a certificate revoked while the gateway runs is refused on the same keep-alive connection',
  async (t) => {
    const key = agencySigningKey(certsDir, 'police-revoked');
    const token = signEs256(key.pem, { alg: 'ES256', kid: key.kid }, claims('police-revoked'));
    const agent = gw.keepAliveAgent('police-revoked');
    const sockets = new Set<unknown>();
    agent.on('free', (socket) => sockets.add(socket));
    const call = () =>
      httpsRequest(`${gw.url}/v1/agencies`, gw.credentials('police-revoked'), {
        agent,
        headers: { authorization: `Bearer ${token}` },
      });
    t.equal((await call()).status, 200);
    revokeAgencyCertificates(certsDir, 'police-revoked');
    const started = Date.now();
    await waitFor(async () => (await call()).status === 401);
    t.ok(Date.now() - started <= 5000, 'within 5 seconds');
    expect401(t, await call(), 'revoked certificate');
    t.equal(sockets.size, 1, 'every call used one connection');
  },
);

t.test('token attacks', async (t) => {
  expect401(t, await asPolice(undefined), 'no token');
  expect401(t, await asPolice('not-a-jwt'), 'garbage token');
  expect401(t, await asPolice('a.b.c'), 'garbage three-part token');

  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: policeKey.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims(police))).toString('base64url')}.`;
  expect401(t, await asPolice(none), 'alg none');

  const hsInput = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: policeKey.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims(police))).toString('base64url')}`;
  const hs = `${hsInput}.${createHmac('sha256', policeKey.publicPem).update(hsInput).digest('base64url')}`;
  expect401(t, await asPolice(hs), 'HS256 signed with the public key');

  expect401(t, await asPolice(policeToken({}, { kid: 'unknown-kid' })), 'unknown kid');
  const byGpKey = signEs256(gpKey.pem, { alg: 'ES256', kid: gpKey.kid }, claims(police));
  expect401(t, await asPolice(byGpKey), "valid signature by another agency's key");
  const byGpKeyPoliceKid = signEs256(gpKey.pem, { alg: 'ES256', kid: policeKey.kid }, claims(police));
  expect401(t, await asPolice(byGpKeyPoliceKid), "another agency's key under this agency's kid");
  expect401(t, await asPolice(policeToken({ iss: gp })), 'iss of another agency');
  expect401(t, await asPolice(policeToken({ aud: 'other-gateway' })), 'wrong aud');
  const now = Math.floor(Date.now() / 1000);
  expect401(t, await asPolice(policeToken({ iat: now - 4000, exp: now - 200 })), 'expired');
  expect401(t, await asPolice(policeToken({ iat: now, exp: now + 3601 })), 'lifetime over 3600 s');
  expect401(t, await asPolice(policeToken({ sub: undefined })), 'missing sub');
  expect401(t, await asPolice(policeToken({ jti: undefined })), 'missing jti');

  const valid = policeToken();
  const [h, p, s] = valid.split('.') as [string, string, string];
  const tampered = Buffer.from(
    JSON.stringify({ ...claims(police), role: 'public_protection_officer' }),
  ).toString('base64url');
  expect401(t, await asPolice(`${h}.${tampered}.${s}`), 'tampered payload');
  expect401(t, await asPolice(`${h}.${p}.${s.slice(0, 40)}`), 'truncated signature');
  expect401(t, await asPolice(`${h}.${p}.${s}${s}`), 'overlong signature');
});

t.test(
  'claims are bounded: too long, control characters or broken UTF-16 are 401, never a 5xx',
  async (t) => {
    const auditorToken = (overrides: Record<string, unknown>) =>
      policeToken({ role: 'auditor', ...overrides });
    const bad: Array<[string, Record<string, unknown>]> = [
      ['sub with NUL', { sub: 'officer\u0000-1' }],
      ['sub with a lone surrogate', { sub: 'officer-\ud800' }],
      ['sub with a C1 control', { sub: 'officer-\u0085' }],
      ['sub of 5,000 characters', { sub: 'x'.repeat(5000) }],
      ['sub of 129 characters', { sub: 's'.repeat(129) }],
      ['jti with a line feed', { jti: 'j\n1' }],
      ['jti of 129 characters', { jti: 'j'.repeat(129) }],
      ['name with a bell', { name: 'Pat\u0007' }],
      ['name with a lone low surrogate', { name: '\udc00Pat' }],
      ['name of 201 characters', { name: 'n'.repeat(201) }],
      ['role with NUL', { role: 'auditor\u0000' }],
      ['name not a string', { name: 42 }],
    ];
    for (const [what, overrides] of bad) {
      expect401(t, await asPolice(auditorToken(overrides)), what);
      // A read that ledgers (an auditor's search by NHS number) must not turn client input into a 503.
      const ledgered = await gw.request('/v1/audit?nhsNumber=9434765919', gw.credentials(police), {
        headers: { authorization: `Bearer ${auditorToken(overrides)}` },
      });
      expect401(t, ledgered, `${what}, on a ledgered read`);
    }
    for (const [what, overrides] of [
      ['sub of 128 characters', { sub: 's'.repeat(128) }],
      ['jti of 128 characters', { jti: 'j'.repeat(128) }],
      ['name of 200 characters', { name: 'n'.repeat(200) }],
      ['letters beyond ASCII and a surrogate pair', { sub: 'zoë-ó-briain-😀', name: 'Zoë Ó Briain 😀' }],
    ] as const) {
      const ok = await gw.request('/v1/audit?nhsNumber=9434765919', gw.credentials(police), {
        headers: { authorization: `Bearer ${auditorToken(overrides)}` },
      });
      t.equal(ok.status, 200, `${what}: accepted (${ok.text.slice(0, 200)})`);
    }
  },
);

t.test('roles', async (t) => {
  const res = await asPolice(policeToken({ role: 'social_worker' }));
  t.equal(res.status, 403, 'a role of another kind is forbidden');
  t.equal(res.json.code, 'forbidden');
  t.equal(
    (await asPolice(policeToken({ role: 'auditor' }))).status,
    200,
    'common roles belong to every kind',
  );
  t.equal(
    (await asPolice(policeToken({ role: 'chief_constable' }))).status,
    403,
    'an unknown role is forbidden',
  );
});

t.test('clock leeway', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  t.equal(
    (await asPolice(policeToken({ iat: now - 630, exp: now - 30 }))).status,
    200,
    'expired 30 s ago: within leeway',
  );
  t.equal(
    (await asPolice(policeToken({ iat: now + 30, exp: now + 600 }))).status,
    200,
    'issued 30 s ahead: within leeway',
  );
  expect401(t, await asPolice(policeToken({ iat: now + 300, exp: now + 900 })), 'issued 5 minutes ahead');
});

t.test('/health is open, /v1 is not', async (t) => {
  const res = await gw.request('/health/live', { ca: gw.credentials(police).ca });
  t.equal(res.status, 200);
  expect401(
    t,
    await gw.request('/v1/agencies', { ca: gw.credentials(police).ca }),
    'no certificate and no token',
  );
  const encoded = await gw.request('/%761/agencies', { ca: gw.credentials(police).ca });
  t.not(encoded.status, 200, 'an encoded path does not slip past the wall');
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 6000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
