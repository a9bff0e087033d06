import { createPrivateKey, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import t, { type Test } from 'tap';
import { runCli } from '../../src/cli/run.js';
import { certPaths } from '../../src/registry/index.js';
import { AGENCIES, startTestGateway, type TestGateway } from '../helpers/gateway.js';

interface CliResult {
  code: number;
  out: string;
  err: string;
}

interface SavedState {
  format: string;
  gatewayId: string;
  checkpoint: { treeSize: number; rootHash: string; timestamp: string; keyId: string; signature: string };
  keys: Record<string, string>;
}

async function sgw(certsDir: string, ...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    { SGW_CERTS_DIR: certsDir, LOG_LEVEL: 'silent' },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const witness = (gw: { certsDir: string }, url: string, state: string, ...more: string[]) =>
  sgw(
    gw.certsDir,
    'audit',
    'witness',
    '--url',
    url,
    '--agency',
    AGENCIES.police.id,
    '--state',
    state,
    ...more,
  );

const readState = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as SavedState;

/** Ledger entries through the real HTTP surface (an auditor's search is itself recorded), then signed. */
async function addEntries(gw: TestGateway, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await gw.call(AGENCIES.csc.id, 'auditor', 'GET', '/v1/audit?nhsNumber=9434765919');
    if (res.status !== 200) throw new Error(`audit search answered ${res.status}`);
  }
  await gw.gateway.ledger.flush();
}

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`${backend}: a first run records, later runs verify that the tree only grew`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const state = path.join(t.testdir({}), 'witness.json');

    const first = await witness(gw, gw.url, state);
    t.equal(first.code, 0, first.err);
    t.match(first.out, /first checkpoint recorded/);
    const served = (await gw.call(AGENCIES.police.id, 'police_officer', 'GET', '/v1/audit/checkpoint')).json;
    const saved = readState(state);
    t.same(saved.checkpoint, served, 'the checkpoint the gateway serves is saved');
    t.equal(saved.gatewayId, 'sgw');
    t.ok(saved.keys[served.keyId], 'the signing key is pinned');

    await addEntries(gw, 3);
    const second = await witness(gw, gw.url, state);
    t.equal(second.code, 0, second.err);
    const grown = readState(state).checkpoint;
    t.ok(grown.treeSize >= saved.checkpoint.treeSize + 3, 'the new checkpoint is saved');
    t.match(second.out, new RegExp(`ok: size ${saved.checkpoint.treeSize} -> ${grown.treeSize}`));

    const again = await witness(gw, gw.url, state);
    t.equal(again.code, 0, 'nothing new is still consistent');
    t.same(readState(state).checkpoint, grown);

    await addEntries(gw, 5);
    t.equal((await witness(gw, gw.url, state)).code, 0, 'and again after more entries');
  });
}

t.test('a state file that does not match the history: exit 1, state kept', async (t) => {
  const gw = await startTestGateway(t);
  await addEntries(gw, 4);
  const dir = t.testdir({});
  const state = path.join(dir, 'witness.json');
  t.equal((await witness(gw, gw.url, state)).code, 0);
  const good = readState(state);

  const tamper = (change: (s: SavedState) => void): string => {
    const s = structuredClone(good);
    change(s);
    const text = `${JSON.stringify(s, null, 2)}\n`;
    writeFileSync(state, text);
    return text;
  };
  const otherRoot = 'ab'.repeat(32);

  // An older, smaller tree with another root: no proof from it reaches the gateway's root.
  await addEntries(gw, 2);
  let text = tamper((s) => {
    s.checkpoint.treeSize -= 1;
    s.checkpoint.rootHash = otherRoot;
  });
  let r = await witness(gw, gw.url, state);
  t.equal(r.code, 1);
  t.match(
    r.err,
    /witness: FAILED \(inconsistent\): consistency proof from \d+ to \d+ entries does not verify/,
  );
  t.equal(readFileSync(state, 'utf8'), text, 'the state is not overwritten');

  // The same size as now with another root: two different histories of one size.
  const now = (await gw.call(AGENCIES.police.id, 'police_officer', 'GET', '/v1/audit/checkpoint')).json;
  text = tamper((s) => {
    s.checkpoint = { ...now, rootHash: otherRoot };
  });
  r = await witness(gw, gw.url, state);
  t.equal(r.code, 1);
  t.match(r.err, /FAILED \(forked\): same size \d+, different root/);
  t.equal(readFileSync(state, 'utf8'), text);

  // A larger tree than the gateway now shows: entries were taken away.
  tamper((s) => {
    s.checkpoint.treeSize = now.treeSize + 10;
  });
  r = await witness(gw, gw.url, state);
  t.equal(r.code, 1);
  t.match(r.err, /FAILED \(shrank\): tree shrank from \d+ to \d+ entries/);

  // A key seen before that the gateway no longer publishes.
  tamper((s) => {
    s.keys = { ...s.keys, ['0'.repeat(32)]: Object.values(good.keys)[0] ?? '' };
  });
  r = await witness(gw, gw.url, state);
  t.equal(r.code, 1);
  t.match(r.err, /FAILED \(key_changed\)/);

  writeFileSync(state, '{ not json');
  r = await witness(gw, gw.url, state);
  t.equal(r.code, 1);
  t.match(r.err, /FAILED \(bad_state\): state file .* is not JSON/);
  writeFileSync(state, JSON.stringify({ format: 'something else' }));
  t.match((await witness(gw, gw.url, state)).err, /FAILED \(bad_state\): .* is not a witness state/);

  tamper(() => {});
  const back = await witness(gw, gw.url, state);
  t.equal(back.code, 0, `the true state still verifies: ${back.err}`);
});

t.test('a split view: a gateway with the same key and another history is caught', async (t) => {
  const a = await startTestGateway(t);
  // Same CA, ledger key and gateway id, another database: what a gateway showing two histories does.
  const b = await startTestGateway(t, { certsDir: a.certsDir });
  await addEntries(a, 3);
  await addEntries(b, 6);
  const state = path.join(t.testdir({}), 'witness.json');
  t.equal((await witness(a, a.url, state)).code, 0);
  const r = await witness(b, b.url, state);
  t.equal(r.code, 1, 'B’s checkpoint is validly signed, but does not extend what A showed');
  t.match(r.err, /FAILED \(inconsistent\)/);
});

/**
 * A stand-in gateway over TLS with the real server certificate, answering what a compromised gateway
 * might: the real keys, and a checkpoint of the test's choosing.
 */
async function fakeGateway(t: Test, gw: TestGateway, routes: Record<string, () => unknown>): Promise<string> {
  const p = certPaths(gw.certsDir);
  const server = https.createServer(
    { key: readFileSync(p.serverKey), cert: readFileSync(p.serverCert) },
    (req, res) => {
      const route = routes[(req.url ?? '').split('?')[0] ?? ''];
      res.writeHead(route ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(route ? route() : { code: 'not_found' }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

t.test('forged and unverifiable checkpoints: exit 1', async (t) => {
  const gw = await startTestGateway(t);
  await addEntries(gw, 3);
  const keys = (await gw.request('/v1/audit/keys', gw.credentials(AGENCIES.police.id))).json;
  const real = (await gw.call(AGENCIES.police.id, 'police_officer', 'GET', '/v1/audit/checkpoint')).json;
  const dir = t.testdir({});

  // Served as it is, the real checkpoint passes through the stand-in: the stand-in itself is sound.
  const honest = await fakeGateway(t, gw, {
    '/v1/audit/keys': () => keys,
    '/v1/audit/checkpoint': () => real,
  });
  t.equal((await witness(gw, honest, path.join(dir, 'honest.json'))).code, 0);

  const forged = await fakeGateway(t, gw, {
    '/v1/audit/keys': () => keys,
    '/v1/audit/checkpoint': () => ({ ...real, treeSize: real.treeSize + 1 }),
  });
  const r = await witness(gw, forged, path.join(dir, 'forged.json'));
  t.equal(r.code, 1);
  t.match(r.err, /FAILED \(bad_signature\): checkpoint signature does not verify/);
  t.notOk(existsSync(path.join(dir, 'forged.json')), 'nothing saved');

  // Signed for another gateway id: a valid signature over another text does not count.
  const ledgerKey = createPrivateKey(readFileSync(certPaths(gw.certsDir).ledgerKey));
  const text = `sgw-checkpoint\nother-gateway\n${real.treeSize}\n${real.rootHash}\n${real.timestamp}\n`;
  const elsewhere = await fakeGateway(t, gw, {
    '/v1/audit/keys': () => keys,
    '/v1/audit/checkpoint': () => ({
      ...real,
      signature: sign(null, Buffer.from(text), ledgerKey).toString('base64'),
    }),
  });
  t.match((await witness(gw, elsewhere, path.join(dir, 'elsewhere.json'))).err, /FAILED \(bad_signature\)/);

  const unknownKey = await fakeGateway(t, gw, {
    '/v1/audit/keys': () => keys,
    '/v1/audit/checkpoint': () => ({ ...real, keyId: 'f'.repeat(32) }),
  });
  t.match((await witness(gw, unknownKey, path.join(dir, 'unknown.json'))).err, /FAILED \(unknown_key\)/);

  // A key labelled with another key's id is not taken at its word.
  const mislabelled = await fakeGateway(t, gw, {
    '/v1/audit/keys': () => [{ ...keys[0], keyId: 'e'.repeat(32) }],
    '/v1/audit/checkpoint': () => real,
  });
  t.match((await witness(gw, mislabelled, path.join(dir, 'mislabelled.json'))).err, /FAILED \(unknown_key\)/);

  const garbled = await fakeGateway(t, gw, {
    '/v1/audit/keys': () => keys,
    '/v1/audit/checkpoint': () => ({ treeSize: 'many' }),
  });
  t.match((await witness(gw, garbled, path.join(dir, 'garbled.json'))).err, /FAILED \(bad_reply\)/);
});

t.test('unreachable or refusing gateways, other credentials, bad usage', async (t) => {
  const gw = await startTestGateway(t);
  const dir = t.testdir({});
  const state = path.join(dir, 'w.json');

  const down = await witness(gw, 'https://127.0.0.1:1', state);
  t.equal(down.code, 1);
  t.match(
    down.err,
    /FAILED \(unreachable\): gateway unreachable at https:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
  );

  // Certificate, key and token from files, as an agency with its own identity provider runs it.
  const p = certPaths(gw.certsDir);
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, `${gw.token(AGENCIES.gp.id, 'gp')}\n`);
  const files = ['--cert', p.clientCert(AGENCIES.gp.id), '--key', p.clientKey(AGENCIES.gp.id)];
  const fromFiles = await sgw(
    gw.certsDir,
    'audit',
    'witness',
    '--url',
    gw.url,
    ...files,
    '--token',
    tokenFile,
    '--state',
    state,
  );
  t.equal(fromFiles.code, 0, fromFiles.err);
  t.ok(existsSync(state));

  writeFileSync(tokenFile, 'not-a-token');
  const refused = await sgw(
    gw.certsDir,
    'audit',
    'witness',
    '--url',
    gw.url,
    ...files,
    '--token',
    tokenFile,
    '--state',
    state,
  );
  t.equal(refused.code, 1);
  t.match(
    refused.err,
    /FAILED \(refused\): gateway refused GET \/v1\/audit\/checkpoint: 401 unauthenticated/,
  );

  const usage: string[][] = [
    ['--agency', AGENCIES.gp.id],
    ['--url', 'http://127.0.0.1:1', '--agency', AGENCIES.gp.id],
    ['--url', 'not a url', '--agency', AGENCIES.gp.id],
    ['--url', gw.url],
    ['--url', gw.url, '--agency', AGENCIES.gp.id, '--cert', p.clientCert(AGENCIES.gp.id)],
    ['--url', gw.url, '--agency', '../etc'],
    ['--url', gw.url, '--agency', AGENCIES.gp.id, '--ca', path.join(dir, 'missing.crt')],
    ['--url', gw.url, '--agency', AGENCIES.gp.id, '--bogus'],
    ['--url', gw.url, '--agency', AGENCIES.gp.id, '--state', state, '--gateway', 'another-gw'],
  ];
  for (const args of usage) {
    const r = await sgw(gw.certsDir, 'audit', 'witness', ...args);
    t.equal(r.code, 2, `${args.join(' ')}: usage error (${r.err})`);
  }
});
