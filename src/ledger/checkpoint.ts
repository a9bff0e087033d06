import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Checkpoint {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  keyId: string;
  signature: string;
}

export interface PublicSigningKey {
  publicKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
}

export interface SigningKey extends PublicSigningKey {
  privateKey: KeyObject;
}

/** `<certsDir>/ledger-signing.pub` (SPKI PEM): all a verifier needs. */
export function loadPublicKey(certsDir: string): PublicSigningKey {
  const publicKeyPem = readFileSync(path.join(certsDir, 'ledger-signing.pub'), 'utf8');
  const { publicKey, keyId } = publicKeyFromPem(publicKeyPem);
  return { publicKey, keyId, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** keyId = the first 16 bytes, as 32 hex characters, of SHA-256 over the public key's SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

export function publicKeyFromPem(pem: string): { publicKey: KeyObject; keyId: string } {
  const publicKey = createPublicKey(pem);
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('the ledger key must be Ed25519');
  return { publicKey, keyId: keyIdOf(publicKey) };
}

/** `<certsDir>/ledger-signing.key` (PKCS8 PEM); the public half is derived, and checked against `.pub`. */
export function loadSigningKey(certsDir: string): SigningKey {
  const privateKey = createPrivateKey(readFileSync(path.join(certsDir, 'ledger-signing.key'), 'utf8'));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the ledger signing key must be Ed25519');
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  const pubFile = path.join(certsDir, 'ledger-signing.pub');
  const published = publicKeyFromPem(readFileSync(pubFile, 'utf8'));
  if (published.keyId !== keyId) throw new Error(`${pubFile} is not the public half of the signing key`);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId,
  };
}

/** The exact signed text of contract section 11. */
export function checkpointText(gatewayId: string, treeSize: number, rootHash: string, timestamp: string) {
  return `sgw-checkpoint\n${gatewayId}\n${treeSize}\n${rootHash}\n${timestamp}\n`;
}

export function signCheckpoint(
  key: SigningKey,
  gatewayId: string,
  treeSize: number,
  rootHash: string,
  timestamp: string,
): Checkpoint {
  const text = Buffer.from(checkpointText(gatewayId, treeSize, rootHash, timestamp), 'utf8');
  const signature = sign(null, text, key.privateKey).toString('base64');
  return { treeSize, rootHash, timestamp, keyId: key.keyId, signature };
}

export function checkpointSignatureValid(cp: Checkpoint, gatewayId: string, publicKey: KeyObject): boolean {
  const text = Buffer.from(checkpointText(gatewayId, cp.treeSize, cp.rootHash, cp.timestamp), 'utf8');
  try {
    return verify(null, text, publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}
