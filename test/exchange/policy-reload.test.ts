import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { loadConfig } from '../../src/config/index.js';
import { startGateway } from '../../src/main.js';
import { PolicyBundleError } from '../../src/policy/index.js';
import { AGENCIES, makeCerts, startTestGateway } from '../helpers/gateway.js';

/** A private copy of the shipped bundle that a test may edit. */
function bundleCopy(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-policies-'));
  cpSync(path.resolve('policies'), dir, { recursive: true });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 6000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > until) return v;
    await sleep(100);
  }
}

const askPolice = {
  to: AGENCIES.police.id,
  subject: { type: 'child', nhsNumber: '9434765919' },
  purpose: 's47_enquiry',
  categories: ['incidents', 'convictions'],
  justification: 'Strategy discussion today.',
};

t.test(
  'a running gateway decides by the new bundle within 5 s, and keeps the old one when the new is bad',
  async (t) => {
    const dir = bundleCopy(t);
    const gw = await startTestGateway(t, { env: { SGW_POLICIES_DIR: dir } });
    const sw = (method: string, p: string, body?: unknown) =>
      gw.call(AGENCIES.csc.id, 'social_worker', method, p, body);

    const before = await sw('GET', '/v1/policies');
    t.equal(before.status, 200);
    const first = await sw('POST', '/v1/requests', askPolice);
    t.same(first.json.granted, ['incidents', 'convictions']);
    t.equal(first.json.policyVersion, before.json.version);

    // Stop sharing convictions for a s47.
    const file = path.join(dir, 's47-police.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}convictions: "\*"\n/m, ''));
    const after = await eventually(
      () => sw('GET', '/v1/policies'),
      (r) => r.json.version !== before.json.version,
    );
    t.not(after.json.version, before.json.version, 'new version within 5 s');
    const second = await sw('POST', '/v1/requests', askPolice);
    t.same(second.json.granted, ['incidents'], 'decided by the new bundle');
    t.equal(second.json.policyVersion, after.json.version);

    // A broken file: the bundle in force stays, whole.
    writeFileSync(path.join(dir, 'broken.yaml'), 'id: broken\ndescription: x\npurposes: [gossip]\n');
    await sleep(3000);
    const still = await sw('GET', '/v1/policies');
    t.equal(still.json.version, after.json.version, 'a refused bundle changes nothing');
    const third = await sw('POST', '/v1/requests', askPolice);
    t.same(third.json.granted, ['incidents']);

    // The ledger records which bundle decided each request.
    await gw.gateway.ledger.flush();
    const audit = await gw.call(
      AGENCIES.csc.id,
      'auditor',
      'GET',
      '/v1/audit?action=request.created&limit=10',
    );
    const versions = audit.json.entries.map((e: { policyVersion: string }) => e.policyVersion);
    t.same(versions, [before.json.version, after.json.version, after.json.version]);
  },
);

t.test('a gateway does not start on a refused bundle, and says where', async (t) => {
  const dir = bundleCopy(t);
  writeFileSync(path.join(dir, 'extra.yaml'), readFileSync(path.join(dir, 's47-police.yaml'), 'utf8'));
  const certsDir = makeCerts();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-data-'));
  t.teardown(() => {
    rmSync(certsDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  const config = loadConfig({
    PORT: '0',
    SGW_CERTS_DIR: certsDir,
    SGW_DATA_DIR: dataDir,
    SGW_POLICIES_DIR: dir,
    LOG_LEVEL: 'silent',
  });
  const err = await startGateway(config).catch((e: unknown) => e);
  t.type(err, PolicyBundleError);
  t.match(
    (err as Error).message,
    /s47-police\.yaml:\d+: duplicate rule id "s47-police" \(first defined in extra\.yaml:\d+\)/,
    'names the file and line of the duplicate id',
  );
});
