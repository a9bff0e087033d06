import t from 'tap';
import {
  CompactRange,
  consistencyPath,
  EMPTY_ROOT,
  inclusionPath,
  leafHash,
  nodeHash,
  rootHash,
  verifyInclusion,
} from '../../src/ledger/merkle.js';
import {
  mth,
  perfectNodes,
  refLeaf,
  refVerifyConsistency,
  refVerifyInclusion,
} from './fixtures/reference.js';

// ---- RFC 6962 / 9162 test vectors (the Certificate Transparency reference test data). ----

const VECTOR_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => Buffer.from(h, 'hex'));

const VECTOR_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

t.test('RFC 9162 leaf, node and empty-tree hashing vectors', async (t) => {
  t.equal(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(leafHash(Buffer.alloc(0)).toString('hex'), VECTOR_ROOTS[0]);
  t.equal(
    nodeHash(leafHash(VECTOR_LEAVES[0]!), leafHash(VECTOR_LEAVES[1]!)).toString('hex'),
    VECTOR_ROOTS[1],
  );
  for (let n = 1; n <= 8; n++) {
    const d = VECTOR_LEAVES.slice(0, n);
    t.equal(rootHash(perfectNodes(d), n).toString('hex'), VECTOR_ROOTS[n - 1], `root of ${n} (stored nodes)`);
    t.equal(mth(d).toString('hex'), VECTOR_ROOTS[n - 1], `root of ${n} (reference)`);
    const range = new CompactRange(0, () => EMPTY_ROOT);
    for (const leaf of d) range.append(leafHash(leaf));
    t.equal(range.root().toString('hex'), VECTOR_ROOTS[n - 1], `root of ${n} (compact range)`);
  }
});

t.test('RFC 9162 inclusion and consistency vectors', async (t) => {
  const get = perfectNodes(VECTOR_LEAVES);
  const hex = (bs: Buffer[]) => bs.map((b) => b.toString('hex'));
  t.same(hex(inclusionPath(get, 0, 8)), [
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ]);
  t.same(hex(inclusionPath(get, 5, 8)), [
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ]);
  t.same(hex(inclusionPath(get, 2, 3)), ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']);
  t.same(hex(inclusionPath(get, 1, 5)), [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ]);
  t.same(hex(consistencyPath(get, 1, 8)), [
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ]);
  t.same(hex(consistencyPath(get, 6, 8)), [
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ]);
  t.same(hex(consistencyPath(get, 2, 5)), [
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ]);
});

t.test('trees of 1..70 leaves: every inclusion and consistency proof verifies independently', async (t) => {
  const all = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`));
  const get = perfectNodes(all);
  let inclusions = 0;
  let consistencies = 0;
  for (let n = 1; n <= 70; n++) {
    const d = all.slice(0, n);
    const root = mth(d);
    if (!rootHash(get, n).equals(root)) t.fail(`root of ${n}`);
    const range = new CompactRange(0, () => EMPTY_ROOT);
    for (const leaf of d) range.append(leafHash(leaf));
    if (!range.root().equals(root)) t.fail(`compact range root of ${n}`);
    for (let m = 0; m < n; m++) {
      const path = inclusionPath(get, m, n);
      if (!refVerifyInclusion(m, n, refLeaf(d[m]!), path, root)) t.fail(`inclusion ${m} in ${n}`);
      if (!verifyInclusion(m, n, refLeaf(d[m]!), path, root)) t.fail(`production verifier, ${m} in ${n}`);
      if (refVerifyInclusion(m, n, refLeaf(Buffer.from('forged')), path, root))
        t.fail(`forged leaf ${m}/${n}`);
      inclusions++;
    }
    for (let m = 1; m <= n; m++) {
      const proof = consistencyPath(get, m, n);
      const old = mth(d.slice(0, m));
      if (!refVerifyConsistency(m, n, old, root, proof)) t.fail(`consistency ${m} -> ${n}`);
      if (m < n && refVerifyConsistency(m, n, refLeaf(Buffer.from('x')), root, proof)) {
        t.fail(`forged old root accepted ${m} -> ${n}`);
      }
      consistencies++;
    }
  }
  t.equal(inclusions, (70 * 71) / 2, 'every inclusion proof checked');
  t.equal(consistencies, (70 * 71) / 2, 'every consistency proof checked');
});

t.test('a compact range rebuilt from stored frontier nodes continues the same tree', async (t) => {
  const all = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`));
  const get = perfectNodes(all);
  for (let start = 0; start < 70; start++) {
    const range = new CompactRange(start, get);
    for (const leaf of all.slice(start)) range.append(refLeaf(leaf));
    if (!range.root().equals(mth(all))) t.fail(`resumed at ${start}`);
  }
  t.pass('resumed at every size');
});

t.test('a cloned compact range goes on alone: the original keeps its root', async (t) => {
  const all = Array.from({ length: 40 }, (_, i) => Buffer.from(`leaf ${i}`));
  for (const at of [0, 1, 7, 8, 13, 32]) {
    const range = new CompactRange(0, () => EMPTY_ROOT);
    for (const leaf of all.slice(0, at)) range.append(refLeaf(leaf));
    const copy = range.clone();
    for (const leaf of all.slice(at)) copy.append(refLeaf(leaf));
    t.ok(copy.root().equals(mth(all)), `the clone at ${at} continues the tree`);
    t.ok(range.root().equals(mth(all.slice(0, at))), `the original at ${at} is unchanged`);
    t.equal(range.size, at);
  }
});
