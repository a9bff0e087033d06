#!/usr/bin/env node
// Verifies a ledger receipt (`sgw audit prove --seq N`) offline, with nothing but Node:
//   node scripts/verify-receipt.mjs receipt.json [--key trusted-ledger-signing.pub] [--gateway sgw]
// Checks: the entry's hash chain link, its RFC 9162 leaf, the inclusion proof up to the checkpoint root,
// the Ed25519 checkpoint signature and the key id. Without --key it trusts the key inside the receipt:
// pass the key published at GET /v1/audit/keys (or certs/ledger-signing.pub) to pin it.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** RFC 8785 for the JSON a ledger entry holds (strings, integers, booleans, null, arrays, objects). */
function jcs(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  const keys = Object.keys(v)
    .filter((k) => v[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
}

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const node = (l, r) => sha256(Buffer.from([1]), l, r);

function verifyInclusion(index, size, leaf, path, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!file) {
  console.error(
    'usage: node scripts/verify-receipt.mjs receipt.json [--key ledger-signing.pub] [--gateway ID]',
  );
  process.exit(2);
}
const receipt = JSON.parse(readFileSync(file, 'utf8'));
const { entry, inclusion, checkpoint } = receipt;
const gatewayId = opt('--gateway') ?? receipt.gatewayId;
const keyPem = opt('--key') ? readFileSync(opt('--key'), 'utf8') : receipt.publicKeyPem;
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const { hash, ...rest } = entry;
const canonical = Buffer.from(jcs(rest), 'utf8');
check(
  sha256(Buffer.from(entry.prevHash, 'utf8'), canonical).toString('hex') === hash,
  'entry hash = SHA-256(prevHash ‖ canonical entry)',
);
const leaf = sha256(Buffer.from([0]), canonical);
check(leaf.toString('hex') === inclusion.leafHash, 'leaf hash = SHA-256(0x00 ‖ canonical entry)');
check(inclusion.leafIndex === entry.seq - 1, 'leaf index = seq - 1');
check(inclusion.treeSize === checkpoint.treeSize, 'proof is for the checkpoint tree size');
check(
  verifyInclusion(
    inclusion.leafIndex,
    inclusion.treeSize,
    leaf,
    inclusion.auditPath.map((h) => Buffer.from(h, 'hex')),
    Buffer.from(checkpoint.rootHash, 'hex'),
  ),
  'inclusion proof leads to the checkpoint root',
);
const publicKey = createPublicKey(keyPem);
const keyId = sha256(publicKey.export({ type: 'spki', format: 'der' }))
  .toString('hex')
  .slice(0, 32);
check(keyId === checkpoint.keyId, 'checkpoint keyId matches the public key');
const text = `sgw-checkpoint\n${gatewayId}\n${checkpoint.treeSize}\n${checkpoint.rootHash}\n${checkpoint.timestamp}\n`;
check(
  verify(null, Buffer.from(text, 'utf8'), publicKey, Buffer.from(checkpoint.signature, 'base64')),
  'checkpoint signature (Ed25519)',
);
console.log(failures.length === 0 ? `receipt for entry ${entry.seq} verified` : 'receipt NOT verified');
process.exit(failures.length === 0 ? 0 : 1);
