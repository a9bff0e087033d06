import { spawn } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  verify,
  X509Certificate,
} from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli } from '../../src/cli/run.js';

interface CliResult {
  code: number;
  out: string;
  err: string;
}

interface RegistryJson {
  version: number;
  agencies: Array<{
    id: string;
    name: string;
    kind: string;
    status: string;
    webhookUrl?: string;
    webhookSecret: string;
    jwtKeys: Array<{ kid: string; alg: string; publicKeyPem: string }>;
    certificates: Array<{ serial: string; revokedAt?: string }>;
  }>;
}

function tempDir(t: { teardown(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function sgw(certsDir: string, ...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    { SGW_CERTS_DIR: certsDir, LOG_LEVEL: 'silent' },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const registryOf = (dir: string): RegistryJson =>
  JSON.parse(readFileSync(path.join(dir, 'registry.json'), 'utf8')) as RegistryJson;

const mode = (file: string): number => statSync(file).mode & 0o777;

/** RFC 7638, written out here rather than taken from src. */
function thumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const members =
    jwk.kty === 'EC'
      ? `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`
      : `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  return createHash('sha256').update(members, 'utf8').digest('base64url');
}

function decodePart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

const dir = tempDir(t, 'sgw-cli-');

t.test('ca init writes the CA, server certificate, ledger key, subject secret and registry', async (t) => {
  const r = await sgw(dir, 'ca', 'init', '--hostname', 'gw.example.test');
  t.equal(r.code, 0, r.err);
  const files = [
    'ca.crt',
    'ca.key',
    'server.crt',
    'server.key',
    'ledger-signing.key',
    'ledger-signing.pub',
    'subject-hmac.key',
    'registry.json',
  ];
  for (const f of files) t.ok(existsSync(path.join(dir, f)), `${f} exists`);
  for (const f of ['ca.key', 'server.key', 'ledger-signing.key', 'subject-hmac.key']) {
    t.equal(mode(path.join(dir, f)), 0o600, `${f} is 0600`);
  }
  t.same(registryOf(dir), { version: 1, agencies: [] });

  const ca = new X509Certificate(readFileSync(path.join(dir, 'ca.crt')));
  t.ok(ca.ca, 'ca.crt is a CA certificate');
  const server = new X509Certificate(readFileSync(path.join(dir, 'server.crt')));
  const san = server.subjectAltName ?? '';
  t.match(san, /DNS:localhost\b/);
  t.match(san, /IP Address:127\.0\.0\.1\b/);
  t.match(san, /DNS:gw\.example\.test\b/);
  t.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'server certificate chains to the CA');
  t.ok(server.checkPrivateKey(createPrivateKey(readFileSync(path.join(dir, 'server.key')))));

  const ledgerKey = createPrivateKey(readFileSync(path.join(dir, 'ledger-signing.key')));
  t.equal(ledgerKey.asymmetricKeyType, 'ed25519');
  const ledgerPub = createPublicKey(readFileSync(path.join(dir, 'ledger-signing.pub')));
  t.equal(
    ledgerPub.export({ type: 'spki', format: 'pem' }).toString(),
    createPublicKey(ledgerKey).export({ type: 'spki', format: 'pem' }).toString(),
  );
  t.ok(readFileSync(path.join(dir, 'subject-hmac.key'), 'utf8').trim().length >= 32);
});

t.test('ca init refuses to overwrite without --force and replaces with it', async (t) => {
  const d = tempDir(t, 'sgw-cli-force-');
  t.equal((await sgw(d, 'ca', 'init')).code, 0);
  const before = readFileSync(path.join(d, 'ca.crt'), 'utf8');
  const beforeKey = readFileSync(path.join(d, 'ca.key'), 'utf8');

  const again = await sgw(d, 'ca', 'init');
  t.equal(again.code, 1);
  t.match(again.err, /--force/);
  t.equal(readFileSync(path.join(d, 'ca.crt'), 'utf8'), before, 'the CA is untouched');
  t.equal(readFileSync(path.join(d, 'ca.key'), 'utf8'), beforeKey);

  const forced = await sgw(d, 'ca', 'init', '--force');
  t.equal(forced.code, 0, forced.err);
  t.not(readFileSync(path.join(d, 'ca.crt'), 'utf8'), before, 'a new CA');
  t.not(readFileSync(path.join(d, 'ca.key'), 'utf8'), beforeKey);
  t.equal(mode(path.join(d, 'ca.key')), 0o600);
});

t.test('agency add issues the certificate, signing key and webhook secret', async (t) => {
  const r = await sgw(
    dir,
    'agency',
    'add',
    '--id',
    'police-east',
    '--name',
    'East Police',
    '--kind',
    'police',
    '--webhook',
    'https://police-east.example/hooks/sgw',
  );
  t.equal(r.code, 0, r.err);
  const adir = path.join(dir, 'agencies', 'police-east');
  for (const f of ['client.crt', 'client.key', 'jwt-signing.key', 'webhook.secret']) {
    t.ok(existsSync(path.join(adir, f)), `${f} exists`);
  }
  for (const f of ['client.key', 'jwt-signing.key', 'webhook.secret']) {
    t.equal(mode(path.join(adir, f)), 0o600, `${f} is 0600`);
  }
  t.equal(mode(path.join(dir, 'registry.json')), 0o600, 'registry.json (holds webhook secrets) is 0600');

  const ca = new X509Certificate(readFileSync(path.join(dir, 'ca.crt')));
  const cert = new X509Certificate(readFileSync(path.join(adir, 'client.crt')));
  t.match(cert.subject, /^CN=police-east$/m);
  t.equal(cert.subjectAltName, 'URI:urn:sgw:agency:police-east');
  t.ok(cert.checkIssued(ca), 'issued by the CA');
  t.ok(cert.verify(ca.publicKey), 'signed by the CA key');
  t.notOk(cert.ca);
  t.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(path.join(adir, 'client.key')))));

  const secret = readFileSync(path.join(adir, 'webhook.secret'), 'utf8').trim();
  t.match(secret, /^[0-9a-f]{64}$/);
  t.equal(r.out.split(secret).length - 1, 1, 'the webhook secret is printed exactly once');

  const agency = registryOf(dir).agencies.find((a) => a.id === 'police-east');
  t.ok(agency);
  t.equal(agency?.name, 'East Police');
  t.equal(agency?.kind, 'police');
  t.equal(agency?.status, 'active');
  t.equal(agency?.webhookUrl, 'https://police-east.example/hooks/sgw');
  t.equal(agency?.webhookSecret, secret);
  t.equal(agency?.certificates[0]?.serial, cert.serialNumber.toLowerCase().replace(/^0+/, ''));

  const signing = createPrivateKey(readFileSync(path.join(adir, 'jwt-signing.key')));
  t.equal(signing.asymmetricKeyType, 'ec');
  t.equal(signing.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.equal(agency?.jwtKeys.length, 1);
  t.equal(agency?.jwtKeys[0]?.alg, 'ES256');
  t.equal(agency?.jwtKeys[0]?.kid, thumbprint(createPublicKey(signing)), 'kid is the RFC 7638 thumbprint');
  t.match(r.out, agency?.jwtKeys[0]?.kid ?? '-');
});

t.test('agency add with the agency’s own public key (EC P-256 and RSA 2048)', async (t) => {
  const keys = tempDir(t, 'sgw-keys-');
  const cases: Array<[string, KeyObject, string]> = [
    ['gp-own-ec', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'ES256'],
    ['gp-own-rsa', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'RS256'],
  ];
  for (const [id, pub, alg] of cases) {
    const file = path.join(keys, `${id}.pem`);
    writeFileSync(file, pub.export({ type: 'spki', format: 'pem' }));
    const r = await sgw(
      dir,
      'agency',
      'add',
      '--id',
      id,
      '--name',
      id,
      '--kind',
      'health',
      '--jwt-public-key',
      file,
    );
    t.equal(r.code, 0, r.err);
    const agency = registryOf(dir).agencies.find((a) => a.id === id);
    t.equal(agency?.jwtKeys.length, 1);
    t.equal(agency?.jwtKeys[0]?.alg, alg);
    t.equal(agency?.jwtKeys[0]?.kid, thumbprint(pub), `${alg} kid is the RFC 7638 thumbprint`);
    t.notOk(existsSync(path.join(dir, 'agencies', id, 'jwt-signing.key')), 'no signing key is made');
    t.ok(existsSync(path.join(dir, 'agencies', id, 'client.crt')));
    t.ok(existsSync(path.join(dir, 'agencies', id, 'webhook.secret')));
  }
});

t.test('agency add refuses bad input with a clear message and a non-zero exit', async (t) => {
  const keys = tempDir(t, 'sgw-badkeys-');
  const ed = path.join(keys, 'ed25519.pem');
  writeFileSync(ed, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  const rsa1024 = path.join(keys, 'rsa1024.pem');
  writeFileSync(
    rsa1024,
    generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const garbage = path.join(keys, 'garbage.pem');
  writeFileSync(garbage, 'not a key\n');

  const base = ['agency', 'add', '--name', 'Bad', '--kind', 'police'];
  const cases: Array<[string, string[], RegExp]> = [
    ['upper-case id', [...base, '--id', 'Police-X'], /agency id/],
    ['id with a slash', [...base, '--id', '../etc'], /agency id/],
    ['one-character id', [...base, '--id', 'p'], /agency id/],
    ['id with a space', [...base, '--id', 'police x'], /agency id/],
    ['unknown kind', ['agency', 'add', '--id', 'odd-one', '--name', 'Odd', '--kind', 'army'], /kind/],
    ['webhook not a URL', [...base, '--id', 'hook-a', '--webhook', 'not a url'], /webhook/i],
    ['webhook ftp', [...base, '--id', 'hook-b', '--webhook', 'ftp://x.example/'], /webhook/i],
    [
      'webhook with credentials',
      [...base, '--id', 'hook-c', '--webhook', 'https://u:p@x.example/'],
      /webhook/i,
    ],
    ['duplicate id', [...base, '--id', 'police-east'], /already exists/],
    ['missing --name', ['agency', 'add', '--id', 'no-name', '--kind', 'police'], /--name/],
    ['missing --id', ['agency', 'add', '--name', 'No id', '--kind', 'police'], /--id/],
    ['missing --kind', ['agency', 'add', '--id', 'no-kind', '--name', 'No kind'], /--kind/],
    ['blank name', ['agency', 'add', '--id', 'blank-name', '--name', '   ', '--kind', 'police'], /name/],
    [
      'unreadable key file',
      [...base, '--id', 'no-key', '--jwt-public-key', path.join(keys, 'nope.pem')],
      /cannot read/,
    ],
    ['Ed25519 key', [...base, '--id', 'ed-key', '--jwt-public-key', ed], /P-256|RSA/],
    ['RSA-1024 key', [...base, '--id', 'rsa-small', '--jwt-public-key', rsa1024], /2048/],
    ['not a key', [...base, '--id', 'junk-key', '--jwt-public-key', garbage], /key/],
  ];
  const before = readFileSync(path.join(dir, 'registry.json'), 'utf8');
  for (const [label, argv, message] of cases) {
    const r = await sgw(dir, ...argv);
    t.not(r.code, 0, `${label}: non-zero exit`);
    t.match(r.err, message, `${label}: says why`);
    t.equal(r.out, '', `${label}: nothing on stdout`);
  }
  t.equal(readFileSync(path.join(dir, 'registry.json'), 'utf8'), before, 'the registry is unchanged');
  for (const id of ['hook-a', 'no-key', 'ed-key', 'rsa-small', 'junk-key']) {
    t.notOk(existsSync(path.join(dir, 'agencies', id, 'client.crt')), `no certificate for ${id}`);
  }
});

t.test('agency add without a CA says to run ca init', async (t) => {
  const empty = tempDir(t, 'sgw-noca-');
  const r = await sgw(
    empty,
    'agency',
    'add',
    '--id',
    'csc-a',
    '--name',
    'A',
    '--kind',
    'children_social_care',
  );
  t.equal(r.code, 1);
  t.match(r.err, /ca init/);
});

t.test('agency list', async (t) => {
  const r = await sgw(dir, 'agency', 'list');
  t.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  const east = lines.find((l) => l.startsWith('police-east\t'));
  t.ok(east, 'lists police-east');
  t.match(east, /\tpolice\t/);
  t.match(east, /\tactive\t/);
  t.match(east, /East Police/);
  t.ok(lines.some((l) => l.startsWith('gp-own-ec\t')));
  t.ok(lines.some((l) => l.startsWith('gp-own-rsa\t')));
  t.notMatch(r.out, registryOf(dir).agencies[0]?.webhookSecret ?? '-', 'no secret in the list');

  const empty = tempDir(t, 'sgw-list-empty-');
  await sgw(empty, 'ca', 'init');
  const none = await sgw(empty, 'agency', 'list');
  t.equal(none.code, 0);
  t.match(none.out, /no agencies/);
});

t.test('agency suspend', async (t) => {
  t.equal(
    (
      await sgw(
        dir,
        'agency',
        'add',
        '--id',
        'csc-west',
        '--name',
        'West CSC',
        '--kind',
        'children_social_care',
      )
    ).code,
    0,
  );
  const r = await sgw(dir, 'agency', 'suspend', '--id', 'csc-west');
  t.equal(r.code, 0, r.err);
  t.equal(registryOf(dir).agencies.find((a) => a.id === 'csc-west')?.status, 'suspended');
  t.equal(registryOf(dir).agencies.find((a) => a.id === 'police-east')?.status, 'active', 'others untouched');
  t.match((await sgw(dir, 'agency', 'list')).out, /^csc-west\t\S+\tsuspended\t/m);

  const unknown = await sgw(dir, 'agency', 'suspend', '--id', 'no-such-agency');
  t.not(unknown.code, 0);
  t.match(unknown.err, /no agency no-such-agency/);
  const missing = await sgw(dir, 'agency', 'suspend');
  t.not(missing.code, 0);
  t.match(missing.err, /--id/);

  const back = await sgw(dir, 'agency', 'reactivate', '--id', 'csc-west');
  t.equal(back.code, 0, back.err);
  t.equal(registryOf(dir).agencies.find((a) => a.id === 'csc-west')?.status, 'active');
});

t.test('cert revoke --agency', async (t) => {
  t.equal(
    (await sgw(dir, 'agency', 'add', '--id', 'probation-x', '--name', 'Probation X', '--kind', 'probation'))
      .code,
    0,
  );
  const serial = registryOf(dir).agencies.find((a) => a.id === 'probation-x')?.certificates[0]?.serial ?? '';
  const r = await sgw(dir, 'cert', 'revoke', '--agency', 'probation-x');
  t.equal(r.code, 0, r.err);
  t.match(r.out, serial);
  const certs = registryOf(dir).agencies.find((a) => a.id === 'probation-x')?.certificates ?? [];
  t.ok(certs.length > 0);
  for (const c of certs) t.ok(c.revokedAt && !Number.isNaN(Date.parse(c.revokedAt)), `${c.serial} revoked`);
  const other = registryOf(dir).agencies.find((a) => a.id === 'police-east')?.certificates ?? [];
  t.notOk(other[0]?.revokedAt, 'other agencies untouched');

  const unknown = await sgw(dir, 'cert', 'revoke', '--agency', 'no-such-agency');
  t.not(unknown.code, 0);
  t.match(unknown.err, /no agency/);
  const noAgency = await sgw(dir, 'cert', 'revoke');
  t.not(noAgency.code, 0);
  t.match(noAgency.err, /--agency/);
});

t.test('cert server re-issues the server certificate from the same CA', async (t) => {
  const d = tempDir(t, 'sgw-cli-server-');
  const none = await sgw(d, 'cert', 'server');
  t.equal(none.code, 1);
  t.match(none.err, /ca init/);
  t.equal((await sgw(d, 'ca', 'init')).code, 0);
  const ca = readFileSync(path.join(d, 'ca.crt'), 'utf8');
  const before = readFileSync(path.join(d, 'server.crt'), 'utf8');
  const r = await sgw(d, 'cert', 'server', '--hostname', 'gw3.example.test');
  t.equal(r.code, 0, r.err);
  const server = new X509Certificate(readFileSync(path.join(d, 'server.crt')));
  t.not(readFileSync(path.join(d, 'server.crt'), 'utf8'), before);
  t.equal(readFileSync(path.join(d, 'ca.crt'), 'utf8'), ca, 'the CA stays');
  t.match(r.out, server.serialNumber.toLowerCase());
  t.match(server.subjectAltName ?? '', /DNS:gw3\.example\.test\b/);
  t.ok(server.verify(new X509Certificate(ca).publicKey));
  t.equal(mode(path.join(d, 'server.key')), 0o600);
  t.equal((await sgw(d, 'cert', 'server', '--bogus')).code, 2);
});

t.test('token prints a signed JWT with the right header and claims', async (t) => {
  const r = await sgw(
    dir,
    'token',
    '--agency',
    'police-east',
    '--sub',
    'pc-42',
    '--role',
    'police_officer',
    '--name',
    'PC Forty-Two',
    '--ttl',
    '120',
  );
  t.equal(r.code, 0, r.err);
  const jwt = r.out.trim();
  const parts = jwt.split('.');
  t.equal(parts.length, 3);
  const header = decodePart(parts[0]);
  const claims = decodePart(parts[1]);
  const registered = registryOf(dir).agencies.find((a) => a.id === 'police-east')?.jwtKeys[0];
  t.equal(header.alg, 'ES256');
  t.equal(header.kid, registered?.kid, 'kid names the registered key');
  t.equal(claims.iss, 'police-east');
  t.equal(claims.sub, 'pc-42');
  t.equal(claims.role, 'police_officer');
  t.equal(claims.name, 'PC Forty-Two');
  t.equal(claims.aud, 'sgw');
  t.type(claims.jti, 'string');
  t.type(claims.iat, 'number');
  t.equal(Number(claims.exp) - Number(claims.iat), 120);
  t.ok(Math.abs(Number(claims.iat) - Date.now() / 1000) < 30, 'iat is now');
  const ok = verify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    { key: createPublicKey(registered?.publicKeyPem ?? ''), dsaEncoding: 'ieee-p1363' },
    Buffer.from(parts[2] ?? '', 'base64url'),
  );
  t.ok(ok, 'signature verifies with the registered public key');

  const dflt = await sgw(dir, 'token', '--agency', 'police-east', '--sub', 'pc-1', '--role', 'auditor');
  t.equal(dflt.code, 0, dflt.err);
  const c2 = decodePart(dflt.out.trim().split('.')[1]);
  t.equal(Number(c2.exp) - Number(c2.iat), 3600, 'default ttl is 3600');
});

t.test('token uses SGW_GATEWAY_ID as the audience', async (t) => {
  const out: string[] = [];
  const code = await runCli(
    ['token', '--agency', 'police-east', '--sub', 'pc-1', '--role', 'police_officer'],
    { stdout: (s) => out.push(s), stderr: () => {} },
    { SGW_CERTS_DIR: dir, SGW_GATEWAY_ID: 'gw-two' },
  );
  t.equal(code, 0);
  t.equal(decodePart(out.join('').trim().split('.')[1]).aud, 'gw-two');
});

t.test('token refuses bad input', async (t) => {
  const base = ['token', '--agency', 'police-east', '--sub', 'pc-1', '--role', 'police_officer'];
  const cases: Array<[string, string[], RegExp]> = [
    ['ttl 0', [...base, '--ttl', '0'], /--ttl/],
    ['ttl 3601', [...base, '--ttl', '3601'], /--ttl/],
    ['ttl abc', [...base, '--ttl', 'abc'], /--ttl/],
    ['ttl -5', [...base, '--ttl=-5'], /--ttl/],
    ['unknown agency', ['token', '--agency', 'nobody-here', '--sub', 'x', '--role', 'auditor'], /no agency/],
    ['bad agency id', ['token', '--agency', 'NOT OK', '--sub', 'x', '--role', 'auditor'], /agency id/],
    [
      'role of another kind',
      ['token', '--agency', 'police-east', '--sub', 'x', '--role', 'social_worker'],
      /social_worker/,
    ],
    ['unknown role', ['token', '--agency', 'police-east', '--sub', 'x', '--role', 'superuser'], /superuser/],
    ['missing --sub', ['token', '--agency', 'police-east', '--role', 'police_officer'], /--sub/],
    ['missing --role', ['token', '--agency', 'police-east', '--sub', 'x'], /--role/],
    [
      'own key, no signing key',
      ['token', '--agency', 'gp-own-ec', '--sub', 'x', '--role', 'gp'],
      /signing key/,
    ],
  ];
  for (const [label, argv, message] of cases) {
    const r = await sgw(dir, ...argv);
    t.not(r.code, 0, `${label}: non-zero exit`);
    t.match(r.err, message, `${label}: says why`);
    t.equal(r.out, '', `${label}: no token printed`);
  }
});

t.test('unknown commands and options are usage errors (exit 2)', async (t) => {
  const cases: string[][] = [
    ['frobnicate'],
    [],
    ['agency', 'list', '--bogus'],
    ['ca', 'init', '--nope'],
    ['agency', 'add', '--id', 'x-y', '--name', 'X', '--kind', 'police', '--colour', 'red'],
    ['agency', 'explode'],
    ['ca', 'destroy'],
    ['cert', 'issue'],
    ['token', '--agency', 'police-east', '--sub', 'x', '--role', 'auditor', 'extra'],
  ];
  for (const argv of cases) {
    const r = await sgw(dir, ...argv);
    t.equal(r.code, 2, `sgw ${argv.join(' ')} exits 2`);
  }
  const unknown = await sgw(dir, 'frobnicate');
  t.match(unknown.err, /unknown command "frobnicate"/);
  t.match(unknown.err, /usage/);
  const opt = await sgw(dir, 'agency', 'list', '--bogus');
  t.match(opt.err, /bogus/);
  const help = await sgw(dir, '--help');
  t.equal(help.code, 0);
  t.match(help.out, /usage: sgw/);
});

t.test('agency key add and remove (rotation)', async (t) => {
  const keys = tempDir(t, 'sgw-rotate-');
  const pub = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  const file = path.join(keys, 'next.pem');
  writeFileSync(file, pub.export({ type: 'spki', format: 'pem' }));
  const kid = thumbprint(pub);
  const added = await sgw(dir, 'agency', 'key', 'add', '--id', 'police-east', '--jwt-public-key', file);
  t.equal(added.code, 0, added.err);
  t.match(added.out, kid);
  const kids = () =>
    registryOf(dir)
      .agencies.find((a) => a.id === 'police-east')
      ?.jwtKeys.map((k) => k.kid) ?? [];
  t.equal(kids().length, 2, 'the old key stays valid');
  t.ok(kids().includes(kid));

  const removed = await sgw(dir, 'agency', 'key', 'remove', '--id', 'police-east', '--kid', kid);
  t.equal(removed.code, 0, removed.err);
  t.notOk(kids().includes(kid));
  t.equal(kids().length, 1);

  const again = await sgw(dir, 'agency', 'key', 'remove', '--id', 'police-east', '--kid', kid);
  t.not(again.code, 0);
  t.match(again.err, /no key/);
  const badKey = await sgw(
    dir,
    'agency',
    'key',
    'add',
    '--id',
    'police-east',
    '--jwt-public-key',
    '/nonexistent.pem',
  );
  t.not(badKey.code, 0);
});

t.test('serve without a CA refuses to start and says what to do', async (t) => {
  const empty = tempDir(t, 'sgw-serve-noca-');
  const r = await sgw(empty, 'serve');
  t.equal(r.code, 1);
  t.match(r.err, /ca init/);
  t.notOk(existsSync(path.join(empty, 'ca.crt')), 'nothing created without --init');
});

t.test('audit export: --from and --to are a seq or a time, else a usage error', async (t) => {
  const dir = tempDir(t, 'sgw-audit-args-');
  for (const bad of [
    ['--from', 'yesterday'],
    ['--to', '0x10'],
  ]) {
    const r = await sgw(dir, 'audit', 'export', ...bad);
    t.equal(r.code, 2, bad.join(' '));
    t.match(r.err, new RegExp(`${bad[0]} must be a seq or an RFC 3339 time`));
  }
});

t.test('a reader that closes the pipe early ends the command quietly', async (t) => {
  // The built CLI, as a shell runs it: `sgw help | head -0`.
  const child = spawn(process.execPath, ['dist/cli/main.js', 'help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 0);
  t.equal(stderr, '', 'no EPIPE stack trace');
});
