import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import t from 'tap';
import { runCli } from '../../src/cli/run.js';
import { checkWebhookUrl, postWebhook, type UrlPolicy, WebhookUrlRefused } from '../../src/notify/index.js';
import type { Resolver } from '../../src/notify/ssrf.js';
import { classifyAddress } from '../../src/notify/ssrf.js';
import { certPaths, readRegistry } from '../../src/registry/index.js';
import { makeCerts } from '../helpers/gateway.js';
import { GP, POLICE } from '../helpers/ids.js';
import { signedWith, startReceiver } from './fixtures.js';

/**
 * The guard against server-side request forgery, at registration (the CLI) and at delivery: https
 * only, loopback only with the operator's permission, no private, link-local (metadata), CGNAT,
 * multicast or reserved address, the checked address is the one connected to, no redirect followed.
 */

const certsDir = makeCerts();
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

const STRICT: UrlPolicy = { allowHttpLoopback: false };
const LOOPBACK_OK: UrlPolicy = { allowHttpLoopback: true };
const ca = readFileSync(certPaths(certsDir).caCert, 'utf8');
const event = () => ({
  id: randomUUID(),
  agency: POLICE,
  type: 'request.received',
  occurredAt: new Date().toISOString(),
  data: { requestId: randomUUID() },
});
/** A resolver that answers what the test says, standing in for a DNS server an attacker controls. */
const resolvesTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

t.test('address classes (one case per line)', async (t) => {
  const cases: Array<[string, 'public' | 'loopback' | 'other', string]> = [
    ['93.184.215.14', 'public', 'a public IPv4 address'],
    ['2606:4700::1111', 'public', 'a public IPv6 address'],
    ['127.0.0.1', 'loopback', 'loopback'],
    ['127.8.9.10', 'loopback', 'all of 127.0.0.0/8'],
    ['::1', 'loopback', 'IPv6 loopback'],
    ['10.1.2.3', 'other', 'RFC 1918 10/8'],
    ['172.16.0.1', 'other', 'RFC 1918 172.16/12'],
    ['172.31.255.254', 'other', 'RFC 1918 172.16/12, top'],
    ['192.168.1.1', 'other', 'RFC 1918 192.168/16'],
    ['169.254.169.254', 'other', 'the cloud metadata address (link-local)'],
    ['169.254.0.1', 'other', 'link-local'],
    ['100.64.0.1', 'other', 'CGNAT 100.64/10'],
    ['0.0.0.0', 'other', 'unspecified'],
    ['224.0.0.1', 'other', 'multicast'],
    ['255.255.255.255', 'other', 'broadcast'],
    ['192.0.2.1', 'other', 'documentation (reserved)'],
    ['240.0.0.1', 'other', 'reserved 240/4'],
    ['::', 'other', 'IPv6 unspecified'],
    ['fc00::1', 'other', 'unique local fc00::/7'],
    ['fd12:3456::1', 'other', 'unique local fd00::/8'],
    ['fe80::1', 'other', 'IPv6 link-local'],
    ['ff02::1', 'other', 'IPv6 multicast'],
    ['::ffff:10.0.0.1', 'other', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'other', 'IPv4-mapped metadata'],
    ['::ffff:127.0.0.1', 'loopback', 'IPv4-mapped loopback'],
    ['64:ff9b::a00:1', 'other', 'NAT64 (could reach a private IPv4)'],
    ['fec0::1', 'other', 'deprecated site-local'],
    ['not-an-ip', 'other', 'not an address'],
  ];
  for (const [address, want, why] of cases) t.equal(classifyAddress(address), want, `${address}: ${why}`);
});

t.test('URLs refused before any connection', async (t) => {
  const refused = async (
    url: string,
    policy: UrlPolicy,
    code: string,
    resolve = resolvesTo('93.184.215.14'),
  ) => {
    const err = await checkWebhookUrl(url, policy, resolve).catch((e: unknown) => e);
    t.ok(err instanceof WebhookUrlRefused, `${url} refused`);
    t.equal((err as WebhookUrlRefused).code, code, `${url}: ${code}`);
  };
  await refused('http://hooks.example/x', STRICT, 'scheme_refused');
  await refused('http://hooks.example/x', LOOPBACK_OK, 'address_refused', resolvesTo('93.184.215.14'));
  await refused('ftp://hooks.example/x', LOOPBACK_OK, 'scheme_refused');
  await refused('https://user:pw@hooks.example/x', STRICT, 'url_invalid');
  await refused('not a url', STRICT, 'url_invalid');
  await refused('https://hooks.example/x', STRICT, 'address_refused', resolvesTo('10.0.0.5'));
  await refused('https://169.254.169.254/latest/meta-data/', STRICT, 'address_refused');
  await refused('https://metadata.example/x', STRICT, 'address_refused', resolvesTo('169.254.169.254'));
  await refused('https://[fd00::1]/x', STRICT, 'address_refused');
  await refused('https://[::ffff:192.168.0.1]/x', STRICT, 'address_refused');
  await refused(
    'https://mixed.example/x',
    STRICT,
    'address_refused',
    resolvesTo('93.184.215.14', '192.168.0.9'),
  );
  const system = async (host: string) => (await import('node:dns/promises')).lookup(host, { all: true });
  await refused('https://localhost/x', STRICT, 'address_refused', system);
  await refused('https://127.0.0.1/x', STRICT, 'address_refused');
  await refused('https://nowhere.invalid/x', STRICT, 'dns_error', async () => {
    throw new Error('ENOTFOUND');
  });

  const ok = await checkWebhookUrl('https://hooks.example:8443/in?x=1', STRICT, resolvesTo('93.184.215.14'));
  t.match(ok, { hostname: 'hooks.example', address: '93.184.215.14', family: 4, port: 8443 });
  const loop = await checkWebhookUrl('http://localhost:9/x', LOOPBACK_OK);
  t.equal(
    classifyAddress(loop.address),
    'loopback',
    'localhost resolves to loopback, allowed when permitted',
  );
});

t.test(
  'at delivery: refused addresses get nothing; the checked address is the one connected to',
  async (t) => {
    const receiver = await startReceiver(t, certsDir);
    const opts = { timeoutMs: 5000, extraCa: ca };
    const secrets = ['s3cret'];

    t.match(
      await postWebhook(receiver.url(), secrets, event(), { ...opts, ...STRICT }),
      { ok: false, code: 'address_refused' },
      'localhost without the operator permission: refused',
    );
    t.match(
      await postWebhook(receiver.url('/hook', 'rebind.test'), secrets, event(), {
        ...opts,
        ...LOOPBACK_OK,
        resolve: resolvesTo('169.254.169.254'),
      }),
      { ok: false, code: 'address_refused' },
      'a name that now resolves to the metadata address: refused at delivery',
    );
    t.equal(receiver.deliveries.length, 0, 'nothing reached the receiver');

    // receiver.test resolves nowhere but through the guard's resolver: had the request resolved the name
    // again, it would have failed; it went to the checked address, with the name for SNI, Host and the
    // certificate check.
    const e = event();
    const sent = await postWebhook(receiver.url('/hook', 'receiver.test'), secrets, e, {
      ...opts,
      ...LOOPBACK_OK,
      resolve: resolvesTo('127.0.0.1'),
    });
    t.same(sent, { ok: true, status: 200 });
    const [d] = receiver.deliveries;
    t.equal(d?.headers.host, `receiver.test:${receiver.port}`, 'Host is the name');
    t.same(d && signedWith(d, secrets), secrets);
    t.same(d?.json, { id: e.id, type: e.type, occurredAt: e.occurredAt, data: e.data });

    const untrusted = await postWebhook(receiver.url(), secrets, event(), {
      timeoutMs: 5000,
      ...LOOPBACK_OK,
    });
    t.same(
      untrusted,
      { ok: false, code: 'tls_error' },
      'a receiver certificate no trusted CA issued: refused',
    );
    const wrongName = await postWebhook(receiver.url('/hook', 'other.test'), secrets, event(), {
      ...opts,
      ...LOOPBACK_OK,
      resolve: resolvesTo('127.0.0.1'),
    });
    t.same(wrongName, { ok: false, code: 'tls_error' }, 'a certificate for another name: refused');
  },
);

t.test('a redirect is a failed try and is not followed', async (t) => {
  const receiver = await startReceiver(t, certsDir);
  receiver.respond = (d) =>
    d.path === '/hook' ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 };
  const outcome = await postWebhook(receiver.url(), ['k'], event(), {
    timeoutMs: 5000,
    extraCa: ca,
    ...LOOPBACK_OK,
  });
  t.same(outcome, { ok: false, code: 'redirect_refused', status: 302 });
  await new Promise((r) => setTimeout(r, 300));
  t.same(
    receiver.deliveries.map((d) => d.path),
    ['/hook'],
    'the redirect target was never asked',
  );
});

t.test('timeouts and refused connections are failed tries with a code', async (t) => {
  const receiver = await startReceiver(t, certsDir);
  receiver.respond = () => ({ status: 500 });
  t.same(
    await postWebhook(receiver.url(), ['k'], event(), { timeoutMs: 5000, extraCa: ca, ...LOOPBACK_OK }),
    { ok: false, code: 'status_500', status: 500 },
  );
  t.same(await postWebhook('https://127.0.0.1:1/hook', ['k'], event(), { timeoutMs: 5000, ...LOOPBACK_OK }), {
    ok: false,
    code: 'connection_refused',
  });
  const net = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        silent.close(() => r());
      }),
  );
  const port = (silent.address() as { port: number }).port;
  t.same(
    await postWebhook(`https://127.0.0.1:${port}/hook`, ['k'], event(), { timeoutMs: 300, ...LOOPBACK_OK }),
    { ok: false, code: 'timeout' },
    'a receiver that never answers: timeout',
  );
});

t.test(
  'registration: sgw agency add --webhook and sgw agency webhook set refuse forbidden URLs',
  async (t) => {
    const sgw = async (env: Record<string, string>, ...argv: string[]) => {
      const out: string[] = [];
      const code = await runCli(
        argv,
        { stdout: (s) => out.push(s), stderr: (s) => out.push(s) },
        {
          SGW_CERTS_DIR: certsDir,
          ...env,
        },
      );
      return { code, out: out.join('\n') };
    };
    const add = (id: string, url: string, env: Record<string, string> = {}) =>
      sgw(env, 'agency', 'add', '--id', id, '--name', 'Hook Police', '--kind', 'police', '--webhook', url);
    for (const [id, url] of [
      ['ssrf-private', 'https://10.0.0.7/hook'],
      ['ssrf-metadata', 'https://169.254.169.254/latest/meta-data/'],
      ['ssrf-localhost', 'https://localhost/hook'],
      ['ssrf-http', 'http://localhost/hook'],
    ] as const) {
      const r = await add(id, url);
      t.equal(r.code, 1, `${url} refused`);
      t.notOk(
        readRegistry(certsDir).agencies.some((a) => a.id === id),
        `${id} not registered`,
      );
    }
    const allowed = await add('ssrf-loopback-ok', 'http://localhost:9/hook', {
      SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    });
    t.equal(allowed.code, 0, `loopback with the operator's permission: ${allowed.out}`);

    const set = (url: string, env: Record<string, string> = {}) =>
      sgw(env, 'agency', 'webhook', 'set', '--id', GP, '--url', url);
    t.equal((await set('https://169.254.169.254/')).code, 1, 'webhook set: metadata address refused');
    t.equal((await set('https://[fd00::1]/')).code, 1, 'webhook set: unique local refused');
    t.equal(readRegistry(certsDir).agencies.find((a) => a.id === GP)?.webhookUrl, undefined, 'unchanged');
    const later = await set('https://hooks.invalid/sgw');
    t.equal(later.code, 0, 'a name that does not resolve yet is accepted');
    t.match(later.out, /does not resolve/, 'with a warning');
    t.equal(
      readRegistry(certsDir).agencies.find((a) => a.id === GP)?.webhookUrl,
      'https://hooks.invalid/sgw',
    );
    t.equal((await sgw({}, 'agency', 'webhook', 'remove', '--id', GP)).code, 0);
    t.equal(readRegistry(certsDir).agencies.find((a) => a.id === GP)?.webhookUrl, undefined, 'removed');
  },
);

t.test('sgw webhook test sends a signed webhook.test and prints the outcome', async (t) => {
  const receiver = await startReceiver(t, certsDir);
  const env = {
    SGW_CERTS_DIR: certsDir,
    SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    SGW_WEBHOOK_CA_FILE: certPaths(certsDir).caCert,
  };
  const sgw = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await runCli(argv, { stdout: (s) => out.push(s), stderr: (s) => out.push(s) }, env);
    return { code, out: out.join('\n') };
  };
  t.equal((await sgw('agency', 'webhook', 'set', '--id', POLICE, '--url', receiver.url())).code, 0);
  const ok = await sgw('webhook', 'test', '--agency', POLICE);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.out, /HTTP 200/);
  const [d] = receiver.deliveries;
  const secret = readFileSync(certPaths(certsDir).webhookSecret(POLICE), 'utf8').trim();
  t.same(d && signedWith(d, [secret]), [secret], 'signed with the agency secret');
  t.equal(d?.json.type, 'webhook.test');
  t.equal(d?.headers['sgw-event-id'], d?.json.id);

  receiver.respond = () => ({ status: 410 });
  const failed = await sgw('webhook', 'test', '--agency', POLICE);
  t.equal(failed.code, 1);
  t.match(failed.out, /status_410/);
  t.equal((await sgw('webhook', 'test', '--agency', 'csc-south')).code, 1, 'an agency without a webhook');
  t.equal((await sgw('webhook', 'test')).code, 2, '--agency is required');
});
