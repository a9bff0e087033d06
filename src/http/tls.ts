import type { SecureContextOptions } from 'node:tls';

/**
 * The TLS policy of the gateway's HTTPS listener (docs/security.md): TLS 1.3, and TLS 1.2 only with an
 * ephemeral ECDHE key exchange (forward secrecy) and an AEAD cipher (AES-GCM, ChaCha20-Poly1305). No
 * static RSA key exchange, no CBC (LUCKY13), no SHA-1 MAC. Node takes the TLS 1.3 suites in the same
 * `ciphers` string, by their `TLS_` names; a list without them would leave TLS 1.3 with none.
 */
export const TLS13_SUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
];

/** OpenSSL names, in the server's order of preference. ECDSA suites serve an ECDSA server key if given one. */
export const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

export const TLS_POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
  ecdhCurve: 'X25519:P-256:P-384',
  honorCipherOrder: true,
} as const satisfies SecureContextOptions;

export interface TlsMaterial {
  key: string;
  cert: string;
  ca: string;
}

/**
 * The secure-context options for the server certificate with the policy. Used at start and when a
 * re-issued certificate is loaded: `setSecureContext` resets every option it is not given (ciphers
 * included) to Node's defaults, so the policy must travel with the certificate each time.
 */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  return { ...material, ...TLS_POLICY };
}
