import { createHash, createPublicKey, verify } from 'node:crypto';

/**
 * What `sgw audit witness` checks, written from the contract (section 11) and RFC 9162 alone, sharing
 * nothing with src/ledger: a witness that ran the gateway's own Merkle code would agree with any bug in
 * it. Pure functions, no I/O.
 */

export interface WitnessCheckpoint {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  keyId: string;
  signature: string;
}

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 section 2.1.1: an interior node is SHA-256(0x01 ‖ left ‖ right). */
const node = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([0x01]), left, right);

/** MTH of the empty tree: SHA-256 of nothing. */
// echo -n '' | sha256sum
export const EMPTY_TREE_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/** Exact for every safe integer (Math.log2 rounds above 2^49 or so). */
function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

/**
 * RFC 9162 section 2.1.4.2: does `proof` show that the tree of `first` leaves with root `firstRoot` is
 * a prefix of the tree of `second` leaves with root `secondRoot`? Arithmetic rather than bit operators,
 * which JavaScript truncates to 32 bits.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) {
    return false;
  }
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  // Every tree extends the empty one; the proof for it is empty (RFC 9162 section 2.1.4.1).
  if (first === 0) return proof.length === 0 && firstRoot.equals(Buffer.from(EMPTY_TREE_ROOT, 'hex'));
  // Step 1: an empty proof proves nothing between two different sizes.
  if (proof.length === 0) return false;
  // Step 2: when the old tree is a perfect subtree, the proof leaves out its root, which is known.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  // Steps 3 and 4.
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  const [seed, ...rest] = path;
  if (!seed) return false;
  let fr = seed;
  let sr = seed;
  // Step 6.
  for (const c of rest) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = node(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

/** Contract section 11: the exact UTF-8 text the gateway's ledger key signs. */
export function checkpointText(gatewayId: string, cp: WitnessCheckpoint): string {
  return `sgw-checkpoint\n${gatewayId}\n${cp.treeSize}\n${cp.rootHash}\n${cp.timestamp}\n`;
}

/** A key's id as the ledger publishes it: the first 16 bytes of SHA-256 over its SPKI DER, in hex. */
export function ledgerKeyId(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return sha256(der).subarray(0, 16).toString('hex');
}

/** The Ed25519 signature over the checkpoint text, by the given key; false on any malformed input. */
export function checkpointSigned(gatewayId: string, cp: WitnessCheckpoint, publicKeyPem: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(
      null,
      Buffer.from(checkpointText(gatewayId, cp), 'utf8'),
      key,
      Buffer.from(cp.signature, 'base64'),
    );
  } catch {
    return false;
  }
}
