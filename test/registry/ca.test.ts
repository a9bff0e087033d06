import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  addAgency,
  certPaths,
  initCa,
  renewServerCertificate,
  VALIDITY_DAYS,
} from '../../src/registry/index.js';

const DAY_S = 86_400;

/**
 * The validity period as RFC 5280 section 4.1.2.5 and the CA/Browser Forum Baseline Requirements
 * count it: notBefore through notAfter inclusive, in seconds.
 */
function periodSeconds(cert: X509Certificate): number {
  return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000 + 1;
}

const read = (file: string) => new X509Certificate(readFileSync(file));

const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-ca-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const before = Date.now();
initCa(dir, { hostname: 'gw.example.test' });
addAgency(dir, { id: 'csc-a', name: 'CSC A', kind: 'children_social_care' });
const p = certPaths(dir);

t.test('the limits chosen: server within the Baseline Requirements since March 2026', async (t) => {
  t.equal(VALIDITY_DAYS.server, 200, 'BR 6.3.2 maximum for certificates issued from 15 March 2026');
  t.equal(VALIDITY_DAYS.client, 365);
  t.equal(VALIDITY_DAYS.ca, 3650);
});

t.test('each certificate is valid for exactly its stated period, not a second more', async (t) => {
  const cases = [
    ['server', p.serverCert, 200],
    ['client', p.clientCert('csc-a'), 365],
    ['CA', p.caCert, 3650],
  ] as const;
  for (const [label, file, days] of cases) {
    const cert = read(file);
    t.equal(periodSeconds(cert), days * DAY_S, `${label}: ${days} days inclusive`);
    const from = Date.parse(cert.validFrom);
    // Backdated by a minute for peers whose clock lags, never into the future, never by more.
    t.ok(from <= Date.now(), `${label}: valid now`);
    t.ok(from >= Math.floor(before / 1000) * 1000 - 61_000, `${label}: backdated by at most a minute`);
  }
});

t.test('cert server: a new key and certificate from the same CA, everything else untouched', async (t) => {
  const oldCert = readFileSync(p.serverCert, 'utf8');
  const oldKey = readFileSync(p.serverKey, 'utf8');
  const untouched = [p.caCert, p.caKey, p.ledgerKey, p.registry, p.clientCert('csc-a')].map((f) =>
    readFileSync(f, 'utf8'),
  );
  const issued = renewServerCertificate(dir, { hostname: 'gw2.example.test' });
  const cert = read(p.serverCert);
  const ca = read(p.caCert);
  t.not(readFileSync(p.serverCert, 'utf8'), oldCert, 'a new certificate');
  t.not(readFileSync(p.serverKey, 'utf8'), oldKey, 'a new key');
  t.equal(cert.serialNumber.toLowerCase(), issued.serial);
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'issued by the existing CA');
  t.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(p.serverKey))), 'key and certificate pair');
  t.equal(periodSeconds(cert), 200 * DAY_S);
  t.match(cert.subjectAltName, /DNS:gw2\.example\.test/);
  t.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
  t.same(
    [p.caCert, p.caKey, p.ledgerKey, p.registry, p.clientCert('csc-a')].map((f) => readFileSync(f, 'utf8')),
    untouched,
  );
});

t.test('cert server without a CA is refused', async (t) => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'sgw-ca-empty-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  t.throws(() => renewServerCertificate(empty), /no CA/);
});
