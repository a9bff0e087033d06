import { createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { certPaths } from './paths.js';
import { jwtKeyFromPem } from './store.js';

export interface MintTokenInput {
  agency: string;
  sub: string;
  role: string;
  name?: string;
  ttlSeconds?: number;
  audience: string;
}

/**
 * `sgw token`: a development helper that signs a practitioner token with the ES256 key `sgw agency add`
 * made for the agency. Real agencies sign with their own identity provider.
 */
export function mintToken(certsDir: string, input: MintTokenInput): string {
  const file = certPaths(certsDir).jwtSigningKey(input.agency);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `no signing key for agency ${input.agency} (${file}); it may have registered its own key`,
    );
  }
  const privateKey = createPrivateKey(pem);
  const kid = jwtKeyFromPem(
    createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  ).kid;
  const ttl = input.ttlSeconds ?? 3600;
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'JWT', kid };
  const payload = {
    iss: input.agency,
    sub: input.sub,
    name: input.name ?? input.sub,
    role: input.role,
    aud: input.audience,
    iat: now,
    exp: now + ttl,
    jti: randomUUID(),
  };
  const signingInput = `${b64(header)}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
