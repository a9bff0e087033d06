import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { PAYLOADS, requestBody } from '../exchange/requests-fixtures.js';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);

/**
 * docs/verifying.md, followed as an outside auditor would: the pieces over HTTP (an entry from the
 * auditor's search, the checkpoint, the inclusion proof at its size, the keys), a receipt put together
 * from them, and scripts/verify-receipt.mjs run from a folder holding nothing else, by plain Node.
 */
const gw = await startTestGateway(t);
const dir = t.testdir({});
const script = path.join(dir, 'verify-receipt.mjs');
copyFileSync(path.resolve('scripts/verify-receipt.mjs'), script);

/** A call that must succeed for the test to mean anything. */
async function must(status: number, ...args: Parameters<typeof gw.call>) {
  const res = await gw.call(...args);
  if (res.status !== status) throw new Error(`${args[2]} ${args[3]}: ${res.status}`);
  return res.json;
}
// Released, declined (its reason a commitment in the entry) and still open: entries of several shapes.
const asked = [];
for (let i = 0; i < 3; i++) {
  asked.push(await must(201, AGENCIES.csc.id, 'social_worker', 'POST', '/v1/requests', requestBody()));
}
const holder = [AGENCIES.police.id, 'police_officer', 'POST'] as const;
await must(200, ...holder, `/v1/requests/${asked[0].id}/response`, {
  data: { incidents: PAYLOADS.incidents },
});
await must(200, ...holder, `/v1/requests/${asked[1].id}/decline`, { reason: 'Nothing held on this child.' });
await gw.gateway.ledger.flush();

const DPO = [AGENCIES.csc.id, 'auditor'] as const;
const checkpoint = (await gw.call(...DPO, 'GET', '/v1/audit/checkpoint')).json;
const keys = (await gw.request('/v1/audit/keys', { ca: gw.credentials(AGENCIES.csc.id).ca })).json as Array<{
  keyId: string;
  publicKeyPem: string;
}>;
const pinned = keys.find((k) => k.keyId === checkpoint.keyId);
const keyFile = path.join(dir, 'ledger-key.pem');
writeFileSync(keyFile, pinned?.publicKeyPem ?? '');

/** Step by step as the guide says: the entry by seq (cursor = seq - 1), its proof at the checkpoint's size. */
async function receiptFor(seq: number) {
  const page = (await gw.call(...DPO, 'GET', `/v1/audit?limit=1${seq > 1 ? `&cursor=${seq - 1}` : ''}`)).json;
  const [entry] = page.entries;
  const proof = (
    await gw.call(...DPO, 'GET', `/v1/audit/entries/${seq}/proof?treeSize=${checkpoint.treeSize}`)
  ).json;
  return {
    format: 'sgw-ledger-receipt/1',
    gatewayId: gw.config.gatewayId,
    entry,
    inclusion: proof,
    checkpoint,
    publicKeyPem: pinned?.publicKeyPem,
  };
}

const verifyReceipt = async (receipt: unknown, ...args: string[]) => {
  const file = path.join(dir, 'receipt.json');
  writeFileSync(file, JSON.stringify(receipt));
  return run(process.execPath, [script, file, ...args], { cwd: dir }).then(
    (ok) => ({ code: 0, stdout: ok.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
};

t.test('every entry the auditor sees verifies from the HTTP pieces alone', async (t) => {
  const all = (await gw.call(...DPO, 'GET', '/v1/audit?limit=500')).json.entries as Array<{
    seq: number;
    action: string;
  }>;
  const actions = new Set(all.map((e) => e.action));
  for (const a of ['request.created', 'response.released', 'request.declined']) t.ok(actions.has(a), a);
  for (const e of all) {
    const receipt = await receiptFor(e.seq);
    t.equal(receipt.entry.seq, e.seq);
    const r = await verifyReceipt(receipt, '--key', keyFile, '--gateway', gw.config.gatewayId);
    t.equal(r.code, 0, `${e.action} (seq ${e.seq}) verified:\n${r.stdout}`);
    t.match(r.stdout, `receipt for entry ${e.seq} verified`);
  }
});

t.test('a changed piece fails, naming the check', async (t) => {
  const seq = (await gw.call(...DPO, 'GET', '/v1/audit?action=response.released')).json.entries[0].seq;
  const good = await receiptFor(seq);
  const cases: Array<[string, (r: typeof good) => void, string[], RegExp]> = [
    [
      'a changed entry',
      (r) => {
        r.entry.purpose = 'early_help';
      },
      [],
      /FAIL entry hash/,
    ],
    [
      'a changed audit path',
      (r) => {
        r.inclusion.auditPath[0] = 'ab'.repeat(32);
      },
      [],
      /FAIL inclusion proof/,
    ],
    [
      'another root',
      (r) => {
        r.checkpoint = { ...r.checkpoint, rootHash: 'ab'.repeat(32) };
      },
      [],
      /FAIL inclusion proof/,
    ],
    ['another gateway id', () => {}, ['--gateway', 'another-gateway'], /FAIL checkpoint signature/],
  ];
  for (const [label, change, args, expected] of cases) {
    const receipt = structuredClone(good);
    change(receipt);
    const r = await verifyReceipt(receipt, '--key', keyFile, ...args);
    t.equal(r.code, 1, label);
    t.match(r.stdout, expected, label);
    t.match(r.stdout, /receipt NOT verified/);
  }
  // A receipt whose key is swapped for one the auditor did not pin.
  const stranger = generateKeyPairSync('ed25519')
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const strangerFile = path.join(dir, 'stranger.pem');
  writeFileSync(strangerFile, stranger);
  const r = await verifyReceipt(good, '--key', strangerFile);
  t.equal(r.code, 1);
  t.match(r.stdout, /FAIL checkpoint keyId matches the public key/);
});
