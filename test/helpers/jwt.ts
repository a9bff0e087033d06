import { createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { certPaths, jwtKeyFromPem } from '../../src/registry/index.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Signs any header and payload with an agency's ES256 key, to forge the tokens attackers would send. */
export function signEs256(
  privateKeyPem: string,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
) {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = sign('sha256', Buffer.from(input), {
    key: createPrivateKey(privateKeyPem),
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${sig.toString('base64url')}`;
}

export function agencySigningKey(
  certsDir: string,
  agency: string,
): { pem: string; kid: string; publicPem: string } {
  const pem = readFileSync(certPaths(certsDir).jwtSigningKey(agency), 'utf8');
  const publicPem = createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'pem' }).toString();
  return { pem, kid: jwtKeyFromPem(publicPem).kid, publicPem };
}

export function claims(agency: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: agency,
    sub: 'practitioner-1',
    name: 'Test Practitioner',
    role: 'police_officer',
    aud: 'sgw',
    iat: now,
    exp: now + 600,
    jti: randomUUID(),
    ...overrides,
  };
}
