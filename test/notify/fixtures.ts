import { createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Redis } from 'ioredis';
import { certPaths, issueCertificate } from '../../src/registry/index.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { until } from '../helpers/redis.js';

/**
 * Shared by the notification tests: a real HTTPS webhook receiver on 127.0.0.1 with a certificate from
 * the test CA, a signature check written here (as an integrator would, not taken from src), and a test
 * gateway on a Redis prefix of its own that is wiped afterwards. Not a test file itself.
 */

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Delivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: a receiver inspects what arrives field by field
  json: any;
  at: number;
}

export interface Receiver {
  port: number;
  /** A URL of this receiver; `host` defaults to localhost, which resolves to loopback. */
  url(path?: string, host?: string): string;
  deliveries: Delivery[];
  /** Deliveries of one event id (the `sgw-event-id` header). */
  of(eventId: string): Delivery[];
  /** Waits (generously) until `pred` holds over what has arrived. */
  waitFor(pred: (d: Delivery[]) => boolean, ms?: number): Promise<boolean>;
  /** What the receiver answers next (status 200 by default). */
  respond: (d: Delivery) => { status: number; headers?: Record<string, string> };
}

/** Issues a server certificate for localhost, receiver.test and 127.0.0.1 from the test CA. */
function receiverCredentials(certsDir: string): { key: string; cert: string } {
  const p = certPaths(certsDir);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issued = issueCertificate({
    caCertPem: readFileSync(p.caCert, 'utf8'),
    caKeyPem: readFileSync(p.caKey, 'utf8'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    commonName: 'localhost',
    usage: 'server',
    dnsNames: ['localhost', 'receiver.test'],
    ipAddresses: ['127.0.0.1'],
  });
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: issued.certPem };
}

export async function startReceiver(t: Teardown, certsDir: string): Promise<Receiver> {
  const receiver: Receiver = {
    port: 0,
    url: (path = '/hook', host = 'localhost') => `https://${host}:${receiver.port}${path}`,
    deliveries: [],
    of: (eventId) => receiver.deliveries.filter((d) => d.headers['sgw-event-id'] === eventId),
    waitFor: (pred, ms = 15_000) => until(() => pred(receiver.deliveries), ms),
    respond: () => ({ status: 200 }),
  };
  const server = https.createServer(receiverCredentials(certsDir), (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const d: Delivery = { path: req.url ?? '', headers: req.headers, body, json, at: Date.now() };
      receiver.deliveries.push(d);
      const answer = receiver.respond(d);
      res.writeHead(answer.status, answer.headers ?? {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.port = typeof address === 'object' && address ? address.port : 0;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return receiver;
}

/** The receiver's side of contract section 12, written from the contract: which secrets signed it. */
export function signedWith(d: Delivery, secrets: readonly string[], toleranceSeconds = 300): string[] {
  const header = String(d.headers['sgw-signature'] ?? '');
  const parts = header.split(',').map((p) => p.split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  if (!t || !/^\d+$/.test(t) || Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) return [];
  const given = parts.filter(([k]) => k === 'v1').map(([, v]) => Buffer.from(v ?? '', 'hex'));
  return secrets.filter((secret) => {
    const expected = createHmac('sha256', secret).update(`${t}.${d.body}`).digest();
    return given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
  });
}

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Deletes every Redis key under a gateway id's queue prefix. */
export async function wipeQueue(gatewayId: string, redisUrl = REDIS_URL): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `sgw:${gatewayId}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export const testGatewayId = () => `nt-${randomBytes(5).toString('hex')}`;

/** The environment notification tests share: loopback receivers allowed, the test CA trusted. */
export function notifyEnv(certsDir: string, gatewayId: string, extra: Record<string, string> = {}) {
  return {
    SGW_GATEWAY_ID: gatewayId,
    SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    SGW_WEBHOOK_CA_FILE: certPaths(certsDir).caCert,
    ...extra,
  };
}

/**
 * A test gateway whose queue lives under a prefix of its own; at teardown the gateway closes first
 * (its worker stops), then the prefix is wiped from Redis (a private Redis is wiped with its process).
 */
export async function startNotifyGateway(
  t: Teardown,
  opts: TestGatewayOptions & { certsDir: string; gatewayId?: string; wipe?: boolean },
): Promise<TestGateway> {
  const gatewayId = opts.gatewayId ?? testGatewayId();
  const tg = await startTestGateway(t, {
    ...opts,
    env: notifyEnv(opts.certsDir, gatewayId, opts.env),
  });
  t.teardown(async () => {
    await tg.close();
    if (opts.wipe !== false) await wipeQueue(gatewayId);
  });
  return tg;
}
