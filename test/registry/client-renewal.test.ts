import { readFileSync } from 'node:fs';
import t from 'tap';
import { runCli } from '../../src/cli/run.js';
import { certPaths, readRegistry } from '../../src/registry/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import { POLICE } from '../helpers/ids.js';
import { until } from '../helpers/redis.js';

/**
 * A client certificate's life through a running gateway: renewed (`sgw cert client`) without a gap,
 * the old one revoked by serial, and a revoked agency given a new certificate.
 */
t.test('client certificates: renew, revoke one by serial, reissue after revocation', async (t) => {
  const gw = await startTestGateway(t);
  const sgw = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      argv,
      { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
      {
        SGW_CERTS_DIR: gw.certsDir,
        LOG_LEVEL: 'silent',
      },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const p = certPaths(gw.certsDir);
  const creds = () => ({
    ca: gw.credentials(POLICE).ca,
    cert: readFileSync(p.clientCert(POLICE), 'utf8'),
    key: readFileSync(p.clientKey(POLICE), 'utf8'),
  });
  const token = gw.token(POLICE, 'police_officer');
  const status = (c: ReturnType<typeof creds>) =>
    gw.request('/v1/agencies', c, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  const serials = () => readRegistry(gw.certsDir).agencies.find((a) => a.id === POLICE)?.certificates ?? [];

  const first = creds();
  t.equal(await status(first), 200, 'the first certificate works');

  const renewed = await sgw('cert', 'client', '--agency', POLICE);
  t.equal(renewed.code, 0, renewed.err);
  t.match(renewed.out, /client certificate \w+ issued to police-county, valid .* through /);
  const second = creds();
  t.not(second.cert, first.cert, 'a new certificate and key in the agency folder');
  t.ok(await until(async () => (await status(second)) === 200, 8000), 'the new one works within seconds');
  t.equal(await status(first), 200, 'and the old one still does: no gap while the agency switches');

  const oldSerial = serials()[0]?.serial ?? '';
  const revokeOld = await sgw('cert', 'revoke', '--agency', POLICE, '--serial', oldSerial);
  t.equal(revokeOld.code, 0, revokeOld.err);
  t.ok(await until(async () => (await status(first)) === 401, 8000), 'the old one is refused once revoked');
  t.equal(await status(second), 200, 'the new one is untouched');

  const unknownSerial = await sgw('cert', 'revoke', '--agency', POLICE, '--serial', 'abcdef');
  t.equal(unknownSerial.code, 1);
  t.match(unknownSerial.err, /no certificate abcdef/);

  // Every certificate revoked (a lost key, say): the agency is locked out until it gets a new one.
  t.equal((await sgw('cert', 'revoke', '--agency', POLICE)).code, 0);
  t.ok(await until(async () => (await status(second)) === 401, 8000), 'locked out');
  t.equal((await sgw('cert', 'client', '--agency', POLICE)).code, 0);
  const third = creds();
  t.ok(await until(async () => (await status(third)) === 200, 8000), 'back in with a new certificate');
  t.same(
    serials().map((c) => Boolean(c.revokedAt)),
    [true, true, false],
    'the registry keeps every certificate, revoked or not',
  );

  const missing = await sgw('cert', 'client', '--agency', 'no-such-agency');
  t.equal(missing.code, 1);
  t.match(missing.err, /no agency no-such-agency/);
  t.equal((await sgw('cert', 'client')).code, 2, '--agency is required');
});
