import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import t, { type Test } from 'tap';
import { certPaths, renewServerCertificate } from '../../src/registry/index.js';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';

const gw = await startTestGateway(t);
const port = Number(new URL(gw.url).port);
const p = certPaths(gw.certsDir);
const ca = readFileSync(p.caCert, 'utf8');

interface Handshake {
  ok: boolean;
  protocol?: string | null;
  cipher?: string;
  group?: string;
  error?: string;
}

/** One TLS handshake with the given client options; the connection is closed straight after. */
function handshake(target: number, opts: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port: target, ca, servername: 'localhost', ...opts },
      () => {
        const key = socket.getEphemeralKeyInfo();
        const result = {
          ok: true,
          protocol: socket.getProtocol(),
          cipher: socket.getCipher().name,
          ...(key && 'name' in key && key.name ? { group: key.name } : {}),
        };
        socket.destroy();
        resolve(result);
      },
    );
    socket.on('error', (err) => resolve({ ok: false, error: err.message }));
  });
}

/**
 * A server with Node's own defaults and the same certificate, as the gateway was before: it proves the
 * test client really offers what the gateway must refuse, so that a refusal is the gateway's doing.
 */
async function defaultsServer(t: Test, extra: tls.TlsOptions = {}): Promise<number> {
  const server = tls.createServer(
    { key: readFileSync(p.serverKey), cert: readFileSync(p.serverCert), ...extra },
    (s) => s.end(),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

/** No forward secrecy (static RSA), CBC (LUCKY13), SHA-1 or SHA-2 HMAC instead of AEAD. */
const WEAK_TLS12 = [
  'AES128-SHA',
  'AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA256',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-RSA-AES256-SHA',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-RSA-AES256-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
];

t.test('TLS 1.2 suites without forward secrecy or AEAD are refused', async (t) => {
  const control = await defaultsServer(t, {
    ciphers: `${tls.DEFAULT_CIPHERS}:AES128-SHA:AES256-SHA`,
    dhparam: 'auto',
  });
  for (const cipher of WEAK_TLS12) {
    const offered = await handshake(control, { ...TLS12, ciphers: cipher });
    t.ok(offered.ok, `${cipher}: the client can offer it (${offered.error ?? offered.cipher})`);
    const res = await handshake(port, { ...TLS12, ciphers: cipher });
    t.notOk(res.ok, `${cipher}: refused by the gateway`);
  }
});

t.test('TLS 1.1 and 1.0 are refused', async (t) => {
  const legacy = { ciphers: 'DEFAULT@SECLEVEL=0' } as const;
  const control = await defaultsServer(t, { minVersion: 'TLSv1', ...legacy });
  for (const version of ['TLSv1.1', 'TLSv1'] as const) {
    const opts = { minVersion: version, maxVersion: version, ...legacy };
    const offered = await handshake(control, opts);
    t.ok(offered.ok, `${version}: the client can speak it (${offered.error ?? offered.protocol})`);
    t.notOk((await handshake(port, opts)).ok, `${version}: refused by the gateway`);
  }
});

t.test('TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305 is accepted', async (t) => {
  for (const cipher of [
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ]) {
    const res = await handshake(port, { ...TLS12, ciphers: cipher });
    t.ok(res.ok, `${cipher} accepted (${res.error ?? ''})`);
    t.equal(res.protocol, 'TLSv1.2');
    t.equal(res.cipher, cipher);
  }
  // The server's order decides: ChaCha20 offered first still gets AES-128-GCM.
  const ordered = await handshake(port, {
    ...TLS12,
    ciphers: 'ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256',
  });
  t.equal(ordered.cipher, 'ECDHE-RSA-AES128-GCM-SHA256', 'server cipher order honoured');
});

t.test('TLS 1.3 with each of its AEAD suites is accepted, and preferred by default', async (t) => {
  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    const res = await handshake(port, { minVersion: 'TLSv1.3', ciphers: suite });
    t.ok(res.ok, `${suite} accepted (${res.error ?? ''})`);
    t.equal(res.protocol, 'TLSv1.3');
    t.equal(res.cipher, suite);
  }
  const plain = await handshake(port, {});
  t.equal(plain.protocol, 'TLSv1.3', 'a default client gets TLS 1.3');
  t.equal(plain.group, 'X25519', 'and X25519 key exchange');
});

t.test('key exchange groups: X25519, P-256 and P-384 only', async (t) => {
  for (const [curve, group] of [
    ['X25519', 'X25519'],
    ['P-256', 'prime256v1'],
    ['P-384', 'secp384r1'],
  ] as const) {
    const res = await handshake(port, { ...TLS12, ecdhCurve: curve });
    t.ok(res.ok, `${curve} accepted (${res.error ?? ''})`);
    t.equal(res.group, group);
  }
  const control = await defaultsServer(t);
  t.ok((await handshake(control, { ...TLS12, ecdhCurve: 'P-521' })).ok, 'the client can offer P-521 alone');
  t.notOk((await handshake(port, { ...TLS12, ecdhCurve: 'P-521' })).ok, 'P-521 alone is refused');
});

/** The security headers every response must carry, written out here rather than taken from src. */
function assertSecurityHeaders(t: Test, res: HttpResult, label: string): void {
  const h = res.headers;
  const hsts = String(h['strict-transport-security'] ?? '');
  const maxAge = Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0);
  t.ok(maxAge >= 31_536_000, `${label}: HSTS for at least a year (${hsts})`);
  t.match(hsts, /includeSubDomains/, `${label}: HSTS includeSubDomains`);
  t.equal(h['x-content-type-options'], 'nosniff', `${label}: nosniff`);
  t.match(h['content-security-policy'], /default-src 'none'/, `${label}: CSP default-src 'none'`);
  t.match(h['content-security-policy'], /frame-ancestors 'none'/, `${label}: CSP frame-ancestors 'none'`);
  t.equal(h['x-frame-options'], 'DENY', `${label}: X-Frame-Options DENY`);
  t.equal(h['referrer-policy'], 'no-referrer', `${label}: Referrer-Policy`);
  t.equal(h['cross-origin-resource-policy'], 'same-origin', `${label}: CORP`);
  t.equal(h['cross-origin-opener-policy'], 'same-origin', `${label}: COOP`);
  t.equal(h['cache-control'], 'no-store', `${label}: Cache-Control no-store`);
  t.notOk(h['x-powered-by'], `${label}: no X-Powered-By`);
  t.ok(h['x-request-id'], `${label}: x-request-id`);
}

t.test('client certificates: required on /v1, not on /health', async (t) => {
  const anonymous = { ca };
  const noCert = await gw.request('/v1/agencies', anonymous);
  t.equal(noCert.status, 401);
  t.equal(noCert.json.code, 'unauthenticated');
  const certNoToken = await gw.request('/v1/agencies', gw.credentials(AGENCIES.csc.id));
  t.equal(certNoToken.status, 401, 'a certificate alone is not enough');
  const both = await gw.call(AGENCIES.csc.id, 'social_worker', 'GET', '/v1/agencies');
  t.equal(both.status, 200);
  t.equal((await gw.request('/health/live', anonymous)).status, 200);
  t.equal((await gw.request('/health/ready', anonymous)).status, 200);
});

t.test('security headers on every kind of response', async (t) => {
  const anonymous = { ca };
  const cases: Array<[string, HttpResult, number]> = [
    ['200 /v1', await gw.call(AGENCIES.csc.id, 'social_worker', 'GET', '/v1/agencies'), 200],
    ['401 from the wall', await gw.request('/v1/agencies', anonymous), 401],
    ['403 wrong role', await gw.call(AGENCIES.csc.id, 'social_worker', 'GET', '/v1/audit/verify'), 403],
    ['404 unknown route', await gw.request('/no/such/route', anonymous), 404],
    ['400 schema', await gw.call(AGENCIES.csc.id, 'social_worker', 'POST', '/v1/requests', { to: 42 }), 400],
    ['400 malformed URL', await gw.request('/%zz', anonymous), 400],
    [
      '415 not JSON',
      await gw.request('/v1/requests', gw.credentials(AGENCIES.csc.id), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${gw.token(AGENCIES.csc.id, 'social_worker')}`,
          'content-type': 'text/plain',
        },
        rawBody: 'hello',
      }),
      415,
    ],
    ['200 /health/ready', await gw.request('/health/ready', anonymous), 200],
    ['200 /health/live', await gw.request('/health/live', anonymous), 200],
    ['200 public /v1/audit/keys', await gw.request('/v1/audit/keys', anonymous), 200],
  ];
  for (const [label, res, status] of cases) {
    t.equal(res.status, status, `${label}: status`);
    assertSecurityHeaders(t, res, label);
  }
});

/** Raw bytes over TLS, the raw response back (for what Node's HTTP parser refuses before Fastify). */
function rawTls(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () =>
      socket.write(bytes),
    );
    let out = '';
    socket.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    socket.on('error', (err) => (out ? resolve(out) : reject(err)));
    socket.on('close', () => resolve(out));
  });
}

t.test('the 400 Node’s HTTP parser answers carries the same security headers', async (t) => {
  const reference = await gw.request('/health/live', { ca });
  const raw = await rawTls('NOT HTTP AT ALL\r\n\r\n');
  const [head = ''] = raw.split('\r\n\r\n');
  t.match(head, /^HTTP\/1\.1 400 /);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  assertSecurityHeaders(t, { status: 400, headers, text: '', json: undefined }, 'raw 400');
  for (const name of Object.keys(reference.headers)) {
    if (['date', 'content-type', 'content-length', 'connection', 'keep-alive', 'x-request-id'].includes(name))
      continue;
    t.equal(headers[name], reference.headers[name], `${name} as on a Fastify response`);
  }
});

t.test('a re-issued server certificate is served with the same policy', async (t) => {
  const issued = renewServerCertificate(gw.certsDir, { hostname: 'localhost' });
  // The gateway looks at its certificate files once a second.
  let served = '';
  for (let i = 0; i < 100 && served !== issued.serial; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    served = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
        const peer = socket.getPeerX509Certificate();
        socket.destroy();
        resolve(peer ? new X509Certificate(peer.raw).serialNumber.toLowerCase() : '');
      });
      socket.on('error', reject);
    });
  }
  t.equal(served, issued.serial, 'the new certificate is served without a restart');
  for (const cipher of WEAK_TLS12) {
    t.notOk((await handshake(port, { ...TLS12, ciphers: cipher })).ok, `${cipher}: still refused`);
  }
  t.notOk((await handshake(port, { ...TLS12, ecdhCurve: 'P-521' })).ok, 'P-521: still refused');
  t.equal((await handshake(port, {})).protocol, 'TLSv1.3');
});
