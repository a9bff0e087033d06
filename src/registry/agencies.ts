import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AgencyKind, isAgencyKind } from '../identity/roles.js';
import { generateRsaKeyPair, issueCertificate } from './ca.js';
import { SECRET_MODE, writeFileAtomic } from './files.js';
import { certPaths } from './paths.js';
import { AGENCY_ID_PATTERN, type AgencyRecord, jwtKeyFromPem, readRegistry, writeRegistry } from './store.js';

export class RegistryInputError extends Error {}

export interface AddAgencyInput {
  id: string;
  name: string;
  kind: string;
  webhookUrl?: string;
  /** PEM of the agency's own JWT public key; without it the gateway makes an ES256 pair for the agency. */
  jwtPublicKeyPem?: string;
  /** Certificate validity; tests use it to make expired certificates. */
  notBefore?: Date;
  notAfter?: Date;
}

export interface AddAgencyResult {
  agency: AgencyRecord;
  files: string[];
  webhookSecret: string;
}

export function validateAgencyId(id: string): void {
  if (!AGENCY_ID_PATTERN.test(id)) {
    throw new RegistryInputError(
      'agency id must be 2-63 characters of lower-case letters, digits and hyphens, starting with a letter or digit',
    );
  }
}

export function validateWebhookUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RegistryInputError('webhook URL is not a valid URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new RegistryInputError('webhook URL must be http(s)');
  }
  if (parsed.username || parsed.password) {
    throw new RegistryInputError('webhook URL must not carry credentials');
  }
}

function loadCa(certsDir: string): { caCertPem: string; caKeyPem: string } {
  const p = certPaths(certsDir);
  try {
    return { caCertPem: readFileSync(p.caCert, 'utf8'), caKeyPem: readFileSync(p.caKey, 'utf8') };
  } catch {
    throw new RegistryInputError(`no CA in ${certsDir}: run "sgw ca init" first`);
  }
}

/**
 * `sgw agency add`: registers the agency and issues its client certificate (CN = id, SAN
 * urn:sgw:agency:<id>), its webhook secret and, unless it brought its own public key, an ES256 key pair.
 */
export function addAgency(certsDir: string, input: AddAgencyInput): AddAgencyResult {
  validateAgencyId(input.id);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200)
    throw new RegistryInputError('agency name must be 1-200 characters');
  if (!isAgencyKind(input.kind)) {
    throw new RegistryInputError('kind must be one of health, children_social_care, police, probation');
  }
  const kind: AgencyKind = input.kind;
  if (input.webhookUrl !== undefined) validateWebhookUrl(input.webhookUrl);
  // No CA, no agency: said before anything is written.
  loadCa(certsDir);
  const registry = readRegistry(certsDir);
  if (registry.agencies.some((a) => a.id === input.id)) {
    throw new RegistryInputError(`agency ${input.id} already exists`);
  }

  const p = certPaths(certsDir);
  const files: string[] = [];
  let jwtPublicKeyPem = input.jwtPublicKeyPem;
  if (jwtPublicKeyPem === undefined) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileAtomic(
      p.jwtSigningKey(input.id),
      pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      SECRET_MODE,
    );
    files.push(p.jwtSigningKey(input.id));
    jwtPublicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }
  let jwtKey: ReturnType<typeof jwtKeyFromPem>;
  try {
    jwtKey = jwtKeyFromPem(jwtPublicKeyPem);
  } catch (err) {
    throw new RegistryInputError((err as Error).message);
  }

  const client = issueClientCertificate(certsDir, input.id, {
    ...(input.notBefore ? { notBefore: input.notBefore } : {}),
    ...(input.notAfter ? { notAfter: input.notAfter } : {}),
  });
  const webhookSecret = randomBytes(32).toString('hex');
  writeFileAtomic(p.webhookSecret(input.id), `${webhookSecret}\n`, SECRET_MODE);
  files.push(...client.files, p.webhookSecret(input.id));

  const now = new Date().toISOString();
  const agency: AgencyRecord = {
    id: input.id,
    name,
    kind,
    status: 'active',
    ...(input.webhookUrl !== undefined ? { webhookUrl: input.webhookUrl } : {}),
    webhookSecret,
    jwtKeys: [jwtKey],
    certificates: [client.record],
    createdAt: now,
  };
  registry.agencies.push(agency);
  // The registry last: the agency exists for the gateway only once its files are in place.
  writeRegistry(certsDir, registry);
  return { agency, files, webhookSecret };
}

function updateAgency(certsDir: string, id: string, change: (a: AgencyRecord) => void): AgencyRecord {
  validateAgencyId(id);
  const registry = readRegistry(certsDir);
  const agency = registry.agencies.find((a) => a.id === id);
  if (!agency) throw new RegistryInputError(`no agency ${id}`);
  change(agency);
  writeRegistry(certsDir, registry);
  return agency;
}

export function suspendAgency(certsDir: string, id: string): AgencyRecord {
  return updateAgency(certsDir, id, (a) => {
    a.status = 'suspended';
  });
}

export function reactivateAgency(certsDir: string, id: string): AgencyRecord {
  return updateAgency(certsDir, id, (a) => {
    a.status = 'active';
  });
}

/**
 * Issues the agency a client certificate (CN = id, SAN urn:sgw:agency:<id>) with a new key, and writes
 * both to certs/agencies/ID/client.{crt,key}; returns the record the registry keeps of it. The caller
 * adds the record to the registry, last: a certificate counts only once the registry names it.
 */
function issueClientCertificate(
  certsDir: string,
  id: string,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): { record: AgencyRecord['certificates'][number]; files: string[] } {
  const { caCertPem, caKeyPem } = loadCa(certsDir);
  const keys = generateRsaKeyPair();
  const cert = issueCertificate({
    caCertPem,
    caKeyPem,
    publicKeyPem: keys.publicKeyPem,
    commonName: id,
    usage: 'client',
    uris: [`urn:sgw:agency:${id}`],
    ...validity,
  });
  const p = certPaths(certsDir);
  writeFileAtomic(p.clientKey(id), keys.privateKeyPem, SECRET_MODE);
  writeFileAtomic(p.clientCert(id), cert.certPem);
  return {
    record: {
      serial: cert.serial,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      issuedAt: new Date().toISOString(),
    },
    files: [p.clientCert(id), p.clientKey(id)],
  };
}

/**
 * `sgw cert client --agency ID`: a new client certificate for an agency that has one about to expire, or
 * whose certificates were revoked. Its earlier certificates stay as they are (valid until they expire
 * or are revoked), so the agency can switch over without a gap.
 */
export function renewClientCertificate(
  certsDir: string,
  id: string,
): { certificate: AgencyRecord['certificates'][number]; files: string[] } {
  validateAgencyId(id);
  if (!readRegistry(certsDir).agencies.some((a) => a.id === id))
    throw new RegistryInputError(`no agency ${id}`);
  const issued = issueClientCertificate(certsDir, id);
  updateAgency(certsDir, id, (a) => {
    a.certificates.push(issued.record);
  });
  return { certificate: issued.record, files: issued.files };
}

/**
 * `sgw cert revoke --agency ID [--serial S]`: the agency's certificates (or the one with that serial)
 * stop working; returns the serials revoked now.
 */
export function revokeAgencyCertificates(certsDir: string, id: string, serial?: string): string[] {
  const revoked: string[] = [];
  // Serials are hex: written with or without leading zeros, in either case, they name one certificate.
  const normal = (s: string) => s.toLowerCase().replace(/^0+/, '');
  const wanted = serial === undefined ? undefined : normal(serial);
  updateAgency(certsDir, id, (a) => {
    const now = new Date().toISOString();
    if (wanted !== undefined && !a.certificates.some((c) => normal(c.serial) === wanted)) {
      throw new RegistryInputError(`agency ${id} has no certificate ${serial}`);
    }
    for (const c of a.certificates) {
      if (!c.revokedAt && (wanted === undefined || normal(c.serial) === wanted)) {
        c.revokedAt = now;
        revoked.push(c.serial);
      }
    }
  });
  return revoked;
}

/** Key rotation: registers another JWT public key for the agency; old keys stay valid until removed. */
export function addJwtKey(certsDir: string, id: string, publicKeyPem: string): string {
  let kid = '';
  updateAgency(certsDir, id, (a) => {
    let key: ReturnType<typeof jwtKeyFromPem>;
    try {
      key = jwtKeyFromPem(publicKeyPem);
    } catch (err) {
      throw new RegistryInputError((err as Error).message);
    }
    kid = key.kid;
    if (!a.jwtKeys.some((k) => k.kid === key.kid)) a.jwtKeys.push(key);
  });
  return kid;
}

export function removeJwtKey(certsDir: string, id: string, kid: string): void {
  updateAgency(certsDir, id, (a) => {
    const before = a.jwtKeys.length;
    a.jwtKeys = a.jwtKeys.filter((k) => k.kid !== kid);
    if (a.jwtKeys.length === before) throw new RegistryInputError(`agency ${id} has no key ${kid}`);
  });
}
