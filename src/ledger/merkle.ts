import { createHash } from 'node:crypto';

/**
 * RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing and proofs, pure. The proof functions read
 * perfect subtrees through a getter, so the same code runs over the stored subtree table (O(log n) reads)
 * and over an in-memory tree.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export const EMPTY_ROOT = createHash('sha256').digest();

export function leafHash(data: Buffer): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** Perfect subtree (level, idx): the hash of leaves [idx * 2^level, (idx + 1) * 2^level). */
export type NodeGetter = (level: number, idx: number) => Buffer;

export interface NodeKey {
  level: number;
  idx: number;
}

/** The largest power of two strictly less than n (n > 1): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

/** MTH(D[start:end]) for a subtree the RFC's recursion can produce (start is aligned to its split). */
export function rangeHash(get: NodeGetter, start: number, end: number): Buffer {
  const size = end - start;
  if (isPowerOfTwo(size) && start % size === 0) return get(log2(size), start / size);
  const k = splitPoint(size);
  return nodeHash(rangeHash(get, start, start + k), rangeHash(get, start + k, end));
}

export function rootHash(get: NodeGetter, size: number): Buffer {
  return size === 0 ? EMPTY_ROOT : rangeHash(get, 0, size);
}

/** RFC 9162 2.1.3.1 PATH(m, D[0:n]). */
export function inclusionPath(get: NodeGetter, leafIndex: number, size: number): Buffer[] {
  if (leafIndex < 0 || leafIndex >= size) throw new RangeError('leaf index outside the tree');
  const path = (m: number, start: number, end: number): Buffer[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, start, start + k), rangeHash(get, start + k, end)]
      : [...path(m - k, start + k, end), rangeHash(get, start, start + k)];
  };
  return path(leafIndex, 0, size);
}

/** RFC 9162 2.1.4.1 PROOF(m, D[0:n]) for 0 < m <= n. */
export function consistencyPath(get: NodeGetter, first: number, second: number): Buffer[] {
  if (first < 1 || first > second) throw new RangeError('consistency needs 0 < first <= second');
  const sub = (m: number, start: number, end: number, whole: boolean): Buffer[] => {
    const n = end - start;
    if (m === n) return whole ? [] : [rangeHash(get, start, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...sub(m, start, start + k, whole), rangeHash(get, start + k, end)]
      : [...sub(m - k, start + k, end, false), rangeHash(get, start, start + k)];
  };
  return sub(first, 0, second, true);
}

/**
 * Runs a proof function once with a recording getter to learn which stored nodes it needs, so that the
 * caller can fetch them all in one query and run it again for real.
 */
export function neededNodes(run: (get: NodeGetter) => unknown): NodeKey[] {
  const keys = new Map<string, NodeKey>();
  const zero = Buffer.alloc(32);
  run((level, idx) => {
    keys.set(`${level}:${idx}`, { level, idx });
    return zero;
  });
  return [...keys.values()];
}

/** RFC 9162 2.1.3.2: verifies an inclusion proof against a root. */
export function verifyInclusion(
  leafIndex: number,
  size: number,
  leaf: Buffer,
  path: readonly Buffer[],
  root: Buffer,
): boolean {
  if (leafIndex >= size) return false;
  let fn = leafIndex;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/**
 * The compact range at the right edge of a tree of `size` leaves: one perfect subtree per set bit. The
 * sequencer loads it (O(log n) rows), appends leaves and gets back every subtree the appends completed.
 */
export class CompactRange {
  /** pending[level] = the left child at that level still waiting for its right sibling. */
  private readonly pending: (Buffer | undefined)[] = [];
  size: number;

  constructor(size: number, get: NodeGetter) {
    this.size = size;
    for (let level = 0; 2 ** level <= size; level++) {
      const count = Math.floor(size / 2 ** level);
      if (count % 2 === 1) this.pending[level] = get(level, count - 1);
    }
  }

  static frontierKeys(size: number): NodeKey[] {
    const keys: NodeKey[] = [];
    for (let level = 0; 2 ** level <= size; level++) {
      const count = Math.floor(size / 2 ** level);
      if (count % 2 === 1) keys.push({ level, idx: count - 1 });
    }
    return keys;
  }

  /** An independent copy: appending to it leaves this one as it is. */
  clone(): CompactRange {
    return new CompactRange(this.size, (level) => {
      const hash = this.pending[level];
      if (!hash) throw new Error('compact range is missing a subtree');
      return hash;
    });
  }

  /** Appends one leaf; returns the nodes it completed, the leaf itself first. */
  append(leaf: Buffer): Array<NodeKey & { hash: Buffer }> {
    const done: Array<NodeKey & { hash: Buffer }> = [];
    let level = 0;
    let idx = this.size;
    let hash = leaf;
    done.push({ level, idx, hash });
    while (idx % 2 === 1) {
      const left = this.pending[level];
      if (!left) throw new Error('compact range is missing a left sibling');
      this.pending[level] = undefined;
      hash = nodeHash(left, hash);
      level++;
      idx = Math.floor(idx / 2);
      done.push({ level, idx, hash });
    }
    this.pending[level] = hash;
    this.size++;
    return done;
  }

  /** The root of the tree as it stands: fold the pending subtrees from the smallest upwards. */
  root(): Buffer {
    let acc: Buffer | undefined;
    for (const h of this.pending) {
      if (!h) continue;
      acc = acc ? nodeHash(h, acc) : h;
    }
    return acc ?? EMPTY_ROOT;
  }
}
