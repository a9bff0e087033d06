import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import t from 'tap';
import {
  checkpointSigned,
  checkpointText,
  EMPTY_TREE_ROOT,
  ledgerKeyId,
  verifyConsistency,
  type WitnessCheckpoint,
} from '../../src/cli/witness-verify.js';
import { keyIdOf } from '../../src/ledger/index.js';
import { consistencyPath } from '../../src/ledger/merkle.js';
import { mth, perfectNodes, refLeaf, refNode } from '../ledger/fixtures/reference.js';

const hex = (h: string) => Buffer.from(h, 'hex');

// RFC 6962 / 9162 reference tree of 8 leaves (the Certificate Transparency test data).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const ROOT = (n: number) => mth(LEAVES.slice(0, n));

t.test('the empty tree root is SHA-256 of nothing', async (t) => {
  // echo -n '' | sha256sum
  t.equal(createHash('sha256').digest('hex'), EMPTY_TREE_ROOT);
});

t.test('RFC 9162 consistency vectors verify', async (t) => {
  t.equal(ROOT(8).toString('hex'), '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  const vectors: Array<[number, number, string[]]> = [
    [
      1,
      8,
      [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    ],
    [
      6,
      8,
      [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    ],
    [
      2,
      5,
      [
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    ],
  ];
  for (const [m, n, proof] of vectors) {
    t.ok(verifyConsistency(m, n, ROOT(m), ROOT(n), proof.map(hex)), `${m} -> ${n}`);
    t.notOk(verifyConsistency(m, n, ROOT(n), ROOT(m), proof.map(hex)), `${m} -> ${n} with the roots swapped`);
  }
});

t.test(
  'every proof the gateway makes for trees of 1..40 leaves verifies; every mutation fails',
  async (t) => {
    const all = Array.from({ length: 40 }, (_, i) => Buffer.from(`leaf ${i}`));
    const get = perfectNodes(all);
    const bad: string[] = [];
    let checked = 0;
    for (let n = 1; n <= all.length; n++) {
      const newRoot = mth(all.slice(0, n));
      for (let m = 1; m < n; m++) {
        const oldRoot = mth(all.slice(0, m));
        const proof = consistencyPath(get, m, n);
        if (!verifyConsistency(m, n, oldRoot, newRoot, proof)) bad.push(`valid ${m}->${n} refused`);
        const forgedOld = refLeaf(Buffer.from('forged'));
        if (verifyConsistency(m, n, forgedOld, newRoot, proof)) bad.push(`forged old root ${m}->${n}`);
        if (verifyConsistency(m, n, oldRoot, forgedOld, proof)) bad.push(`forged new root ${m}->${n}`);
        for (let i = 0; i < proof.length; i++) {
          const flipped = proof.map((p, j) =>
            j === i ? Buffer.from(p.map((b, k) => (k === 0 ? b ^ 1 : b))) : p,
          );
          if (verifyConsistency(m, n, oldRoot, newRoot, flipped)) bad.push(`element ${i} flipped ${m}->${n}`);
        }
        if (verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1))) bad.push(`truncated ${m}->${n}`);
        if (verifyConsistency(m, n, oldRoot, newRoot, [...proof, newRoot])) bad.push(`extended ${m}->${n}`);
        if (verifyConsistency(m, n, oldRoot, newRoot, [])) bad.push(`empty ${m}->${n}`);
        if (m + 1 < n && verifyConsistency(m + 1, n, oldRoot, newRoot, proof))
          bad.push(`wrong first size ${m}->${n}`);
        checked++;
      }
    }
    // Not checked: the same proof with a larger second size. RFC 9162's verification binds the new size
    // only to the depth of the tree (4 leaves and 3 share a shape from leaf 0), so the witness takes both
    // sizes from signed checkpoints, never from the proof.
    t.same(bad, [], 'no verdict is wrong');
    t.equal(checked, (40 * 39) / 2, 'every pair checked');
  },
);

t.test('edges: equal sizes, the empty tree, impossible sizes', async (t) => {
  const r3 = ROOT(3);
  t.ok(verifyConsistency(3, 3, r3, r3, []), 'same size, same root, no proof');
  t.notOk(verifyConsistency(3, 3, r3, ROOT(4), []), 'same size, different root');
  t.notOk(verifyConsistency(3, 3, r3, r3, [r3]), 'same size with a proof');
  t.ok(verifyConsistency(0, 5, hex(EMPTY_TREE_ROOT), ROOT(5), []), 'the empty tree is a prefix of any');
  t.notOk(verifyConsistency(0, 5, r3, ROOT(5), []), 'size 0 with a root that is not the empty one');
  t.notOk(verifyConsistency(0, 5, hex(EMPTY_TREE_ROOT), ROOT(5), [r3]), 'size 0 with a proof');
  t.notOk(verifyConsistency(5, 3, ROOT(5), r3, []), 'a shrinking tree');
  t.notOk(verifyConsistency(-1, 3, r3, r3, []), 'a negative size');
  t.notOk(verifyConsistency(1.5, 3, r3, r3, [r3]), 'a fractional size');
  t.notOk(verifyConsistency(2 ** 53, 2 ** 53 + 2, r3, r3, [r3]), 'beyond safe integers');
});

t.test('sizes beyond 32 bits and near 2^52 are computed exactly', async (t) => {
  // Trees too large to build, made from their own structure (RFC 9162 2.1.4.1): A stands for the
  // perfect subtree of the first 2^52 leaves, l1 and l2 for the two leaves after it.
  const k = 2 ** 52;
  const a = randomBytes(32);
  const l1 = randomBytes(32);
  const l2 = randomBytes(32);
  // PROOF(2^52, D[2^52 + 1]) = [l1]: the old tree is a perfect subtree, its root left out.
  t.ok(verifyConsistency(k, k + 1, a, refNode(a, l1), [l1]), '2^52 -> 2^52 + 1');
  // PROOF(2^52 + 1, D[2^52 + 2]) = [l1, l2, A]; 2^52 + 1 is not a power of two, though log2 says so.
  const oldRoot = refNode(a, l1);
  const newRoot = refNode(a, refNode(l1, l2));
  t.ok(verifyConsistency(k + 1, k + 2, oldRoot, newRoot, [l1, l2, a]), '2^52 + 1 -> 2^52 + 2');
  t.notOk(verifyConsistency(k + 1, k + 2, oldRoot, newRoot, [l2, l1, a]), 'and its proof reordered');
  // 2^32 + 1 -> 2^32 + 2: where 32-bit bit operators would go wrong.
  t.ok(verifyConsistency(2 ** 32 + 1, 2 ** 32 + 2, oldRoot, newRoot, [l1, l2, a]), '2^32 + 1 -> 2^32 + 2');
});

t.test('checkpoint signatures over the exact text of contract section 11', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const cp: WitnessCheckpoint = {
    treeSize: 12,
    rootHash: ROOT(8).toString('hex'),
    timestamp: '2026-11-27T06:00:00.123Z',
    keyId: ledgerKeyId(pem),
    signature: '',
  };
  t.equal(
    checkpointText('sgw', cp),
    `sgw-checkpoint\nsgw\n12\n${cp.rootHash}\n2026-11-27T06:00:00.123Z\n`,
    'the signed text',
  );
  cp.signature = sign(null, Buffer.from(checkpointText('sgw', cp)), privateKey).toString('base64');
  t.equal(ledgerKeyId(pem), keyIdOf(publicKey), 'key ids agree with the ledger’s');
  t.ok(checkpointSigned('sgw', cp, pem), 'a good signature');
  t.notOk(checkpointSigned('other-gw', cp, pem), 'another gateway id');
  t.notOk(checkpointSigned('sgw', { ...cp, treeSize: 13 }, pem), 'another size');
  t.notOk(checkpointSigned('sgw', { ...cp, rootHash: ROOT(7).toString('hex') }, pem), 'another root');
  t.notOk(checkpointSigned('sgw', { ...cp, timestamp: '2026-11-27T06:00:00.124Z' }, pem), 'another time');
  t.notOk(checkpointSigned('sgw', { ...cp, signature: 'not base64 at all' }, pem), 'a garbled signature');
  const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  t.notOk(checkpointSigned('sgw', cp, other), 'another key');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  t.notOk(checkpointSigned('sgw', cp, rsa.export({ type: 'spki', format: 'pem' }).toString()), 'not Ed25519');
  t.notOk(checkpointSigned('sgw', cp, 'not a key'), 'not a key at all');
});
