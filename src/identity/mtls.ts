import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { AgencyRecord, RegistryView } from '../registry/index.js';

/** `fingerprint`: the certificate's SHA-256, colon-separated hex (what failed logins are counted by). */
export type CertCheck =
  | { ok: true; agency: AgencyRecord; fingerprint: string }
  | { ok: false; reason: string };

interface SocketVerdict {
  generation: number;
  fingerprint: string;
  /** The chain check is the costly part; the time, revocation and agency checks run on every request. */
  signedByCa: boolean;
}

const verdicts = new WeakMap<TLSSocket, SocketVerdict>();

function agencyFromSan(san: string | undefined): string[] {
  if (!san) return [];
  return san
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:urn:sgw:agency:'))
    .map((entry) => entry.slice('URI:urn:sgw:agency:'.length));
}

function commonName(subject: string): string | undefined {
  const line = subject.split('\n').find((l) => l.startsWith('CN='));
  return line?.slice(3);
}

/**
 * Checks the client certificate on every request, not only at the handshake, so that a revocation or a
 * suspension reaches connections that were already open (keep-alive) within the registry's poll interval.
 */
export function checkClientCertificate(socket: unknown, registry: RegistryView, now = new Date()): CertCheck {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (!tls || typeof tls.getPeerX509Certificate !== 'function')
    return { ok: false, reason: 'not a TLS connection' };
  const peer: X509Certificate | undefined = tls.getPeerX509Certificate();
  if (!peer) return { ok: false, reason: 'no client certificate' };

  let verdict = verdicts.get(tls as TLSSocket);
  if (!verdict || verdict.generation !== registry.generation || verdict.fingerprint !== peer.fingerprint256) {
    const ca = registry.ca;
    verdict = {
      generation: registry.generation,
      fingerprint: peer.fingerprint256,
      signedByCa: peer.checkIssued(ca) && peer.verify(ca.publicKey) && !peer.ca,
    };
    verdicts.set(tls as TLSSocket, verdict);
  }
  if (!verdict.signedByCa) return { ok: false, reason: 'certificate not issued by the gateway CA' };

  if (now < new Date(peer.validFrom) || now > new Date(peer.validTo)) {
    return { ok: false, reason: 'certificate outside its validity period' };
  }
  const cn = commonName(peer.subject);
  const sanIds = agencyFromSan(peer.subjectAltName);
  if (!cn || sanIds.length !== 1 || sanIds[0] !== cn) {
    return { ok: false, reason: 'certificate CN and SAN agency disagree' };
  }
  const agency = registry.agency(cn);
  if (!agency) return { ok: false, reason: 'unknown agency' };
  if (agency.status !== 'active') return { ok: false, reason: 'agency suspended' };
  const serial = peer.serialNumber.toLowerCase().replace(/^0+/, '');
  const record = agency.certificates.find((c) => c.serial.replace(/^0+/, '') === serial);
  if (!record) return { ok: false, reason: 'certificate not registered for this agency' };
  if (record.revokedAt) return { ok: false, reason: 'certificate revoked' };
  return { ok: true, agency, fingerprint: peer.fingerprint256 };
}
