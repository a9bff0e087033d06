import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AgencyKind } from '../identity/roles.js';
import { SECRET_MODE, writeFileAtomic } from './files.js';
import { certPaths } from './paths.js';

export type JwtAlg = 'ES256' | 'RS256';

export interface JwtKeyRecord {
  /** RFC 7638 JWK thumbprint (base64url SHA-256). */
  kid: string;
  alg: JwtAlg;
  publicKeyPem: string;
  addedAt: string;
}

export interface CertificateRecord {
  serial: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  revokedAt?: string;
}

export interface AgencyRecord {
  id: string;
  name: string;
  kind: AgencyKind;
  status: 'active' | 'suspended';
  webhookUrl?: string;
  /** HMAC key for signing webhook deliveries; the registry file is 0600 for this reason. */
  webhookSecret: string;
  /** The secret before the last rotation: it still signs, beside the new one, until the time below. */
  previousWebhookSecret?: string;
  /** RFC 3339: the end of the previous secret's grace period. */
  previousWebhookSecretUntil?: string;
  jwtKeys: JwtKeyRecord[];
  certificates: CertificateRecord[];
  createdAt: string;
}

export interface RegistryFile {
  version: 1;
  agencies: AgencyRecord[];
}

export const AGENCY_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

export function emptyRegistry(): RegistryFile {
  return { version: 1, agencies: [] };
}

export class RegistryFormatError extends Error {}

export function readRegistry(certsDir: string): RegistryFile {
  const file = certPaths(certsDir).registry;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<RegistryFile>;
  if (parsed.version !== 1 || !Array.isArray(parsed.agencies)) {
    throw new RegistryFormatError(`${file} is not a version 1 registry`);
  }
  return parsed as RegistryFile;
}

export function writeRegistry(certsDir: string, registry: RegistryFile): void {
  writeFileAtomic(certPaths(certsDir).registry, `${JSON.stringify(registry, null, 2)}\n`, SECRET_MODE);
}

/** RFC 7638: SHA-256 over the required JWK members in lexicographic order, base64url. */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  let canonical: string;
  if (jwk.kty === 'EC') {
    canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  } else if (jwk.kty === 'RSA') {
    canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  } else {
    throw new Error(`unsupported key type ${String(jwk.kty)}`);
  }
  return createHash('sha256').update(canonical).digest('base64url');
}

export class UnsupportedKeyError extends Error {}

/** Accepts an EC P-256 (ES256) or RSA ≥ 2048-bit (RS256) public key in PEM; anything else is refused. */
export function jwtKeyFromPem(pem: string, now = new Date()): JwtKeyRecord {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new UnsupportedKeyError('not a PEM public key');
  }
  const details = key.asymmetricKeyDetails ?? {};
  let alg: JwtAlg;
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') alg = 'ES256';
  else if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) alg = 'RS256';
  else throw new UnsupportedKeyError('the key must be EC P-256 (ES256) or RSA of at least 2048 bits (RS256)');
  return {
    kid: jwkThumbprint(key),
    alg,
    publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    addedAt: now.toISOString(),
  };
}
