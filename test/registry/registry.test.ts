import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { writeFileAtomic } from '../../src/registry/files.js';
import {
  addAgency,
  certPaths,
  initCa,
  jwkThumbprint,
  jwtKeyFromPem,
  RegistryView,
  revokeAgencyCertificates,
  suspendAgency,
} from '../../src/registry/index.js';

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(check: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) return -1;
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

t.test('jwkThumbprint: the RFC 7638 section 3.1 example', async (t) => {
  const key = createPublicKey({
    format: 'jwk',
    key: {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV' +
        '4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0z' +
        'gdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF' +
        'Cur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
    },
  });
  t.equal(jwkThumbprint(key), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  t.equal(jwtKeyFromPem(pem).kid, 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', 'the same through PEM');
  t.equal(jwtKeyFromPem(pem).alg, 'RS256');
});

t.test('jwtKeyFromPem accepts ES256 and RS256 keys only', async (t) => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  const rec = jwtKeyFromPem(ec.export({ type: 'spki', format: 'pem' }).toString());
  t.equal(rec.alg, 'ES256');
  t.match(rec.kid, /^[A-Za-z0-9_-]{43}$/, 'base64url SHA-256');
  t.equal(rec.kid, jwkThumbprint(ec));
  t.match(rec.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
  t.ok(!Number.isNaN(Date.parse(rec.addedAt)));
  t.equal(
    jwtKeyFromPem(
      generateKeyPairSync('rsa', { modulusLength: 3072 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    ).alg,
    'RS256',
  );
  const refused: Array<[string, string]> = [
    [
      'P-384',
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    ],
    [
      'RSA 1024',
      generateKeyPairSync('rsa', { modulusLength: 1024 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    ],
    ['Ed25519', generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    ['garbage', 'not a key'],
  ];
  for (const [label, pem] of refused) t.throws(() => jwtKeyFromPem(pem), `${label} refused`);
});

t.test('writeFileAtomic', async (t) => {
  const dir = tempDir(t, 'sgw-atomic-');
  const file = path.join(dir, 'sub', 'registry.json');
  for (let i = 0; i < 50; i++) writeFileAtomic(file, `{"n":${i}}\n`, 0o600);
  t.equal(readFileSync(file, 'utf8'), '{"n":49}\n');
  t.same(readdirSync(path.dirname(file)), ['registry.json'], 'no temporary files left behind');
  t.equal(statSync(file).mode & 0o777, 0o600);
  writeFileAtomic(file, 'public\n');
  t.equal(statSync(file).mode & 0o777, 0o644, 'the mode is set on every write');
  const secret = path.join(dir, 'secret.key');
  const oldUmask = process.umask(0);
  try {
    writeFileAtomic(secret, 'k', 0o600);
  } finally {
    process.umask(oldUmask);
  }
  t.equal(statSync(secret).mode & 0o777, 0o600, 'independent of the umask');
  t.same(readdirSync(dir).sort(), ['secret.key', 'sub']);

  // A failed write leaves neither a temp file nor a changed target.
  const blocked = path.join(dir, 'blocked');
  writeFileAtomic(path.join(blocked, 'x'), 'x');
  t.throws(() => writeFileAtomic(path.join(blocked, 'x', 'y'), 'y'));
  t.same(readdirSync(blocked), ['x']);
});

t.test('RegistryView reloads within about a second and keeps the last good snapshot', async (t) => {
  const dir = tempDir(t, 'sgw-view-');
  initCa(dir, { hostname: 'localhost' });
  addAgency(dir, { id: 'csc-one', name: 'CSC One', kind: 'children_social_care' });
  const errors: string[] = [];
  const view = new RegistryView(dir, {
    info: () => {},
    error: (_obj, msg) => errors.push(msg),
  });
  let changes = 0;
  view.onChange(() => {
    changes++;
  });
  view.start();
  t.teardown(() => view.stop());
  t.ok(view.activeAgency('csc-one'));
  t.equal(view.activeAgencies().length, 1);
  t.match(view.caPem, /BEGIN CERTIFICATE/);

  addAgency(dir, { id: 'police-two', name: 'Police Two', kind: 'police' });
  const added = await until(() => view.agency('police-two') !== undefined, 3000);
  t.ok(added >= 0 && added <= 1500, `an added agency is seen within ~1 s (${added} ms)`);
  t.equal(view.jwtKey('police-two', view.agency('police-two')?.jwtKeys[0]?.kid ?? '')?.alg, 'ES256');
  t.ok(changes >= 1, 'listeners are told');
  const generation = view.generation;

  suspendAgency(dir, 'csc-one');
  const suspended = await until(() => view.activeAgency('csc-one') === undefined, 3000);
  t.ok(suspended >= 0 && suspended <= 1500, `a suspension is seen within ~1 s (${suspended} ms)`);
  t.equal(view.agency('csc-one')?.status, 'suspended');
  t.same(
    view.activeAgencies().map((a) => a.id),
    ['police-two'],
  );
  t.ok(view.generation > generation, 'the generation moves on');

  revokeAgencyCertificates(dir, 'police-two');
  const revoked = await until(() => Boolean(view.agency('police-two')?.certificates[0]?.revokedAt), 3000);
  t.ok(revoked >= 0 && revoked <= 1500, `a revocation is seen within ~1 s (${revoked} ms)`);

  // A corrupt registry (a half-finished hand edit) keeps the previous snapshot.
  const registryFile = certPaths(dir).registry;
  const good = readFileSync(registryFile, 'utf8');
  const before = view.generation;
  writeFileSync(registryFile, '{"version": 1, "agencies": [');
  await new Promise((r) => setTimeout(r, 2200));
  t.equal(view.generation, before, 'no new snapshot from a corrupt file');
  t.equal(view.agency('police-two')?.name, 'Police Two', 'the previous registry is still in force');
  t.equal(view.agency('csc-one')?.status, 'suspended');
  t.ok(errors.length >= 1, 'the failed reload is logged');

  writeFileSync(registryFile, JSON.stringify({ version: 2, agencies: [] }));
  await new Promise((r) => setTimeout(r, 1200));
  t.equal(view.generation, before);
  t.ok(view.agency('police-two'), 'a registry of another version keeps the previous snapshot too');

  unlinkSync(registryFile);
  await new Promise((r) => setTimeout(r, 1200));
  t.ok(view.agency('police-two'), 'a missing registry keeps the previous snapshot');

  // Repaired: picked up again.
  writeFileAtomic(registryFile, good, 0o600);
  const repaired = await until(() => view.generation > before, 3000);
  t.ok(repaired >= 0, 'the repaired registry is loaded');
  t.same(
    view.activeAgencies().map((a) => a.id),
    ['police-two'],
  );
});

t.test('RegistryView picks up a replaced CA', async (t) => {
  const dir = tempDir(t, 'sgw-view-ca-');
  initCa(dir, { hostname: 'localhost' });
  const view = new RegistryView(dir);
  view.start(100);
  t.teardown(() => view.stop());
  const oldCa = view.caPem;
  initCa(dir, { hostname: 'localhost', force: true });
  const ms = await until(() => view.caPem !== oldCa, 3000);
  t.ok(ms >= 0, 'the new CA is in force');
  t.equal(view.caPem, readFileSync(certPaths(dir).caCert, 'utf8'));
  t.equal(view.ca.fingerprint256, new X509Certificate(view.caPem).fingerprint256);
});

t.test('RegistryView refuses to start without a registry', async (t) => {
  const dir = tempDir(t, 'sgw-view-none-');
  t.throws(() => new RegistryView(dir));
});
