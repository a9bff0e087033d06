import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { Redis } from 'ioredis';
import t from 'tap';
import { makeCerts, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { ClientCredentials } from '../helpers/https.js';
import { CSC } from '../helpers/ids.js';

/**
 * Slow clients over real TLS against a real gateway with short timeouts from configuration: connections
 * that dribble a body, a header or nothing at all are all closed within a bounded time (far beyond the
 * configured timeouts, so that a loaded machine does not make this flaky), while a normal client keeps
 * being served. Each gateway has a gateway id of its own, so that the failed authentications of these
 * connections count in rate-limit windows no other test file shares.
 */
const certsDir = makeCerts();
t.teardown(() => import('node:fs').then((fs) => fs.rmSync(certsDir, { recursive: true, force: true })));

const SHORT = {
  SGW_REQUEST_TIMEOUT_MS: '4000',
  SGW_HEADERS_TIMEOUT_MS: '2000',
  SGW_KEEP_ALIVE_TIMEOUT_MS: '2000',
  SGW_IDLE_TIMEOUT_MS: '6000',
  SGW_TLS_HANDSHAKE_TIMEOUT_MS: '2000',
  SGW_BODY_MIN_BYTES_PER_SECOND: '100',
  SGW_BODY_RATE_GRACE_MS: '1500',
};
/** Every slow connection must be closed by the gateway within this: several times the longest timeout. */
const BOUND_MS = 15_000;

const RUN = `slow-${randomBytes(4).toString('hex')}`;
let gateways = 0;
t.teardown(async () => {
  // The rate-limit windows these connections' failed authentications opened.
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`sgw:rl:${RUN}-*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const startGateway = (env: Record<string, string> = {}) =>
  startTestGateway(t, { certsDir, env: { ...SHORT, SGW_GATEWAY_ID: `${RUN}-${++gateways}`, ...env } });

interface Outcome {
  /** ms from connecting until the gateway closed the connection; Infinity when it had not by BOUND_MS. */
  closedAfterMs: number;
  /** What the gateway wrote back. */
  received: string;
}

const portOf = (tg: TestGateway) => Number(new URL(tg.url).port);

/**
 * Opens a connection (TLS unless `raw`), sends `head`, then one byte of `drip` every second until the
 * gateway closes it, or gives up after BOUND_MS.
 */
function slowClient(
  tg: TestGateway,
  opts: { creds?: ClientCredentials; head?: string; drip?: string; raw?: boolean },
): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = '';
    let dripTimer: NodeJS.Timeout | undefined;
    const socket: net.Socket = opts.raw
      ? net.connect(portOf(tg), '127.0.0.1')
      : tls.connect({
          host: '127.0.0.1',
          port: portOf(tg),
          servername: 'localhost',
          ca: tg.credentials(CSC).ca,
          ...(opts.creds?.cert ? { cert: opts.creds.cert, key: opts.creds.key } : {}),
        });
    const giveUp = setTimeout(() => socket.destroy(), BOUND_MS);
    const begin = () => {
      if (opts.head) socket.write(opts.head);
      const drip = opts.drip;
      if (!drip) return;
      let i = 0;
      dripTimer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip[i++ % drip.length] ?? 'x');
      }, 1000);
    };
    socket.once(opts.raw ? 'connect' : 'secureConnect', begin);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(dripTimer);
      const elapsed = Date.now() - started;
      resolve({ closedAfterMs: elapsed >= BOUND_MS ? Number.POSITIVE_INFINITY : elapsed, received });
    });
  });
}

const postHead = (headers: Record<string, string> = {}) =>
  [
    'POST /v1/requests HTTP/1.1',
    'Host: localhost',
    'Content-Type: application/json',
    'Content-Length: 200000',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');

t.test('slow connections are all closed in bounded time while a normal client is served', async (t) => {
  const tg = await startGateway();
  const creds = tg.credentials(CSC);
  const auth = { authorization: `Bearer ${tg.token(CSC, 'social_worker')}` };
  const kinds: Array<[string, number, () => Promise<Outcome>, RegExp | undefined]> = [
    [
      'no client certificate, a large body dribbled',
      20,
      () => slowClient(tg, { head: postHead(), drip: '{"to":' }),
      /^HTTP\/1\.1 401 [\s\S]*connection: close/i,
    ],
    [
      'a client certificate but no token, a large body dribbled',
      10,
      () => slowClient(tg, { creds, head: postHead(), drip: '{"to":' }),
      /^HTTP\/1\.1 401 [\s\S]*connection: close/i,
    ],
    [
      'an authenticated POST /v1/requests, its body dribbled',
      5,
      () => slowClient(tg, { creds, head: postHead(auth), drip: '{"to":' }),
      /^HTTP\/1\.1 408 [\s\S]*"code":"request_timeout"/,
    ],
    [
      'headers dribbled and never finished',
      5,
      () =>
        slowClient(tg, {
          creds,
          head: 'GET /v1/agencies HTTP/1.1\r\nHost: localhost\r\n',
          drip: 'X-Slow: y',
        }),
      /^HTTP\/1\.1 408 /,
    ],
    ['a TLS connection that sends nothing', 3, () => slowClient(tg, { creds }), undefined],
    ['a TCP connection that never starts TLS', 5, () => slowClient(tg, { raw: true }), undefined],
  ];

  const attack = kinds.map(([, n, open]) => Promise.all(Array.from({ length: n }, open)));
  let attacking = true;
  const attackDone = Promise.all(attack).finally(() => {
    attacking = false;
  });

  const served: number[] = [];
  while (attacking) {
    const r = await tg.call(CSC, 'social_worker', 'GET', '/v1/agencies');
    served.push(r.status);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const outcomes = await attackDone;

  kinds.forEach(([what, n, , expected], k) => {
    const results = outcomes[k] ?? [];
    t.equal(results.length, n, `${what}: ${n} connections`);
    const slowest = Math.max(...results.map((o) => o.closedAfterMs));
    t.ok(slowest < BOUND_MS, `${what}: all closed by the gateway (slowest after ${slowest} ms)`);
    if (expected) {
      for (const o of results) t.match(o.received, expected, `${what}: answered before closing`);
    }
  });
  t.ok(served.length >= 3, `the normal client made ${served.length} calls during the attack`);
  t.same(
    served.filter((s) => s !== 200),
    [],
    'every call of the normal client was answered 200',
  );
});

t.test('a small body sent slowly within the grace period is accepted', async (t) => {
  const tg = await startGateway({ SGW_BODY_RATE_GRACE_MS: '3000' });
  const creds = tg.credentials(CSC);
  const body = JSON.stringify({
    to: 'police-county',
    subject: { type: 'child', nhsNumber: '9434765919' },
    purpose: 's47_enquiry',
    categories: ['incidents'],
    justification: 'A strategy discussion was held today.',
  });
  const received = await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: portOf(tg),
      servername: 'localhost',
      ca: creds.ca,
      cert: creds.cert,
      key: creds.key,
    });
    let text = '';
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      text += c.toString();
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) {
        socket.end();
        resolve(text);
      }
    });
    socket.once('secureConnect', () => {
      socket.write(
        postHead({ authorization: `Bearer ${tg.token(CSC, 'social_worker')}` }).replace(
          'Content-Length: 200000',
          `Content-Length: ${Buffer.byteLength(body)}`,
        ),
      );
      // Half now, half a second later: slow, but done well within the grace period.
      socket.write(body.slice(0, 40));
      setTimeout(() => socket.write(body.slice(40)), 1000);
    });
  });
  t.match(received, /^HTTP\/1\.1 201 /, 'created');
});

t.test('connections beyond SGW_MAX_CONNECTIONS are refused as they arrive', async (t) => {
  const tg = await startGateway({ SGW_MAX_CONNECTIONS: '4' });
  const creds = tg.credentials(CSC);
  const holders: tls.TLSSocket[] = [];
  t.teardown(() => {
    for (const s of holders) s.destroy();
  });
  for (let i = 0; i < 4; i++) {
    const s = tls.connect({ host: '127.0.0.1', port: portOf(tg), servername: 'localhost', ...creds });
    s.on('error', () => {});
    await new Promise((resolve) => s.once('secureConnect', resolve));
    holders.push(s);
  }
  const fifth = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: portOf(tg), servername: 'localhost', ...creds });
    s.once('secureConnect', () => {
      s.destroy();
      resolve('handshake completed');
    });
    s.once('error', () => resolve('refused'));
    s.once('close', () => resolve('refused'));
  });
  t.equal(fifth, 'refused', 'the fifth connection is refused');
  for (const s of holders) s.destroy();
  let status = 0;
  for (let tries = 0; tries < 50 && status !== 200; tries++) {
    status = (await tg.call(CSC, 'social_worker', 'GET', '/v1/agencies').catch(() => ({ status: 0 }))).status;
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(status, 200, 'once connections close, new ones are served');
});

t.test('a body the gateway answered without reading never brings the gateway down', async (t) => {
  const tg = await startGateway({ SGW_BODY_RATE_GRACE_MS: '500' });
  const creds = tg.credentials(CSC);
  const auth = `Authorization: Bearer ${tg.token(CSC, 'social_worker')}\r\n`;
  // Each is answered before its body is read, and the client then sends no more: the body left
  // behind falls under the rate floor while no one reads it.
  const cases: Array<[string, string, RegExp]> = [
    [
      'a GET with a body',
      `GET /v1/agencies HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n${auth}\r\n{`,
      /^HTTP\/1\.1 200 /,
    ],
    // No credentials at all: /health/* has no identity wall before its body guard.
    [
      'a health check with a body',
      'GET /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{',
      /^HTTP\/1\.1 200 /,
    ],
    [
      'a GET with a chunked body',
      `GET /v1/agencies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${auth}\r\n`,
      /^HTTP\/1\.1 200 /,
    ],
    [
      'a body not JSON (415)',
      `POST /v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n${auth}\r\n{`,
      /^HTTP\/1\.1 415 /,
    ],
    [
      'a body over the limit (413)',
      `POST /v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300000\r\n${auth}\r\n{`,
      /^HTTP\/1\.1 413 /,
    ],
  ];
  const send = (head: string) =>
    new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: portOf(tg), servername: 'localhost', ...creds });
      let received = '';
      socket.on('error', () => {});
      socket.once('secureConnect', () => socket.write(head));
      socket.on('data', (c: Buffer) => {
        received += c.toString('latin1');
      });
      socket.on('close', () => resolve(received));
      setTimeout(() => socket.destroy(), 2500);
    });
  const answers = await Promise.all(cases.map(([, head]) => send(head)));
  cases.forEach(([what, , expected], i) => {
    t.match(answers[i], expected, what);
  });
  // Past the grace period and several rate judgements: the gateway is still up and serving.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const r = await tg.call(CSC, 'social_worker', 'GET', '/v1/agencies');
  t.equal(r.status, 200, 'still serving');
});
