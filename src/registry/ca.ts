import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import forge from 'node-forge';
import { SECRET_MODE, writeFileAtomic } from './files.js';
import { certPaths } from './paths.js';
import { emptyRegistry, writeRegistry } from './store.js';

const DAY_MS = 24 * 60 * 60 * 1000;

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
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3650 * DAY_MS);
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
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notAfter =
    opts.notAfter ?? new Date(Date.now() + (opts.usage === 'server' ? 825 : 365) * DAY_MS);
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
  const serverKeys = generateRsaKeyPair();
  const hostnames = [...new Set(['localhost', opts.hostname ?? os.hostname()])];
  const server = issueCertificate({
    caCertPem,
    caKeyPem: caKeys.privateKeyPem,
    publicKeyPem: serverKeys.publicKeyPem,
    commonName: 'localhost',
    usage: 'server',
    dnsNames: hostnames,
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const ledger = generateKeyPairSync('ed25519');

  writeFileAtomic(p.caKey, caKeys.privateKeyPem, SECRET_MODE);
  writeFileAtomic(p.serverKey, serverKeys.privateKeyPem, SECRET_MODE);
  writeFileAtomic(p.serverCert, server.certPem);
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
