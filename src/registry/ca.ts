import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import forge from 'node-forge';
import { SECRET_MODE, writeFileAtomic } from './files.js';
import { certPaths } from './paths.js';
import { emptyRegistry, writeRegistry } from './store.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Validity periods in days, counted as RFC 5280 section 4.1.2.5 and the CA/Browser Forum Baseline
 * Requirements count them: from notBefore through notAfter inclusive, so notAfter = notBefore + period
 * - 1 s. Server: 200 days, the Baseline Requirements' maximum for TLS server certificates issued from
 * 15 March 2026 (ballot SC-081; it was 398). Client: a year, renewed with the agency's onboarding
 * review. CA: ten years, a root that signs only this gateway's certificates (path length 0).
 */
export const VALIDITY_DAYS = { ca: 3650, server: 200, client: 365 } as const;

/** A fresh certificate starts a minute in the past, so that a peer whose clock lags still accepts it. */
const BACKDATE_MS = 60_000;

/** notBefore (whole seconds, as X.509 encodes it) and the notAfter that makes the period exactly `days`. */
export function validityWindow(days: number, now = Date.now()): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.floor((now - BACKDATE_MS) / 1000) * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS - 1000) };
}

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** Keys come from node:crypto (fast, native); forge only assembles and signs the X.509 structures. */
export function generateRsaKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A positive 127-bit random serial in hex, as RFC 5280 asks (at most 20 octets, non-negative). The top
 * byte is kept in 0x40..0x7f so that the hex never starts with 0: the registry's form then equals the
 * minimal DER integer every TLS library reports.
 */
function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex');
}

export interface IssueOptions {
  caCertPem: string;
  caKeyPem: string;
  publicKeyPem: string;
  commonName: string;
  usage: 'server' | 'client';
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

export interface IssuedCertificate {
  certPem: string;
  /** Lower-case hex, as stored in the registry. */
  serial: string;
  notBefore: string;
  notAfter: string;
}

export function createCaCertificate(keys: KeyPairPem, commonName: string): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = newSerial();
  const { notBefore, notAfter } = validityWindow(VALIDITY_DAYS.ca);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const attrs = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Safeguarding Gateway' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export function issueCertificate(opts: IssueOptions): IssuedCertificate {
  const caCert = forge.pki.certificateFromPem(opts.caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.publicKeyPem);
  cert.serialNumber = newSerial();
  const window = validityWindow(VALIDITY_DAYS[opts.usage]);
  cert.validity.notBefore = opts.notBefore ?? window.notBefore;
  cert.validity.notAfter = opts.notAfter ?? window.notAfter;
  cert.setSubject([
    { name: 'commonName', value: opts.commonName },
    { name: 'organizationName', value: 'Safeguarding Gateway' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ...(opts.uris ?? []).map((value) => ({ type: 6, value })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    opts.usage === 'server'
      ? { name: 'extKeyUsage', serverAuth: true }
      : { name: 'extKeyUsage', clientAuth: true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(opts.caKeyPem), forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.validity.notBefore.toISOString(),
    notAfter: cert.validity.notAfter.toISOString(),
  };
}

export class CaExistsError extends Error {}

/** The server certificate: SANs localhost, the host name, 127.0.0.1 and ::1. */
function issueServerCertificate(caCertPem: string, caKeyPem: string, hostname: string) {
  const keys = generateRsaKeyPair();
  const cert = issueCertificate({
    caCertPem,
    caKeyPem,
    publicKeyPem: keys.publicKeyPem,
    commonName: 'localhost',
    usage: 'server',
    dnsNames: [...new Set(['localhost', hostname])],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  return { keyPem: keys.privateKeyPem, cert };
}

/**
 * `sgw ca init`: the CA, the gateway's server certificate, the ledger's Ed25519 signing key, the
 * subject-hashing secret and an empty registry. Refuses to overwrite an existing CA unless forced,
 * because every agency certificate and every ledger checkpoint depends on these keys.
 */
export function initCa(certsDir: string, opts: { force?: boolean; hostname?: string } = {}): string[] {
  const p = certPaths(certsDir);
  if (existsSync(p.caCert) && !opts.force) {
    throw new CaExistsError(`a CA already exists in ${certsDir}; use --force to replace it`);
  }
  const caKeys = generateRsaKeyPair();
  const caCertPem = createCaCertificate(caKeys, 'Safeguarding Gateway CA');
  const server = issueServerCertificate(caCertPem, caKeys.privateKeyPem, opts.hostname ?? os.hostname());
  const ledger = generateKeyPairSync('ed25519');

  writeFileAtomic(p.caKey, caKeys.privateKeyPem, SECRET_MODE);
  writeFileAtomic(p.serverKey, server.keyPem, SECRET_MODE);
  writeFileAtomic(p.serverCert, server.cert.certPem);
  writeFileAtomic(
    p.ledgerKey,
    ledger.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    SECRET_MODE,
  );
  writeFileAtomic(p.ledgerPub, ledger.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  writeFileAtomic(p.subjectKey, `${randomBytes(32).toString('hex')}\n`, SECRET_MODE);
  writeRegistry(certsDir, emptyRegistry());
  // The CA certificate last: its presence is what marks the directory as initialised.
  writeFileAtomic(p.caCert, caCertPem);
  return [p.caCert, p.caKey, p.serverCert, p.serverKey, p.ledgerKey, p.ledgerPub, p.subjectKey, p.registry];
}

/**
 * `sgw cert server`: a new server key and certificate from the existing CA, before the old one's 200
 * days run out. Everything else (CA, agencies, ledger key) stays; running gateways serve the new one to
 * new connections within seconds.
 */
export function renewServerCertificate(
  certsDir: string,
  opts: { hostname?: string } = {},
): IssuedCertificate {
  const p = certPaths(certsDir);
  if (!existsSync(p.caCert)) throw new Error(`no CA in ${certsDir}: run "sgw ca init" first`);
  const server = issueServerCertificate(
    readFileSync(p.caCert, 'utf8'),
    readFileSync(p.caKey, 'utf8'),
    opts.hostname ?? os.hostname(),
  );
  // Key first: a gateway that reloads between the two writes fails to pair them, keeps the old pair
  // and pairs them on its next look a second later.
  writeFileAtomic(p.serverKey, server.keyPem, SECRET_MODE);
  writeFileAtomic(p.serverCert, server.cert.certPem);
  return server.cert;
}
