import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { addAgency, initCa } from '../../src/registry/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';

// Agency ids unique to this run: rate-limit windows live in the shared Redis for a minute, and other
// test files call as the standard agencies.
const tag = randomBytes(4).toString('hex');
const POLICE = `police-rl${tag}`;
const CSC = `csc-rl${tag}`;
const GP = `gp-rl${tag}`;

const certsDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-certs-rl-'));
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));
initCa(certsDir, { hostname: 'localhost' });
addAgency(certsDir, { id: POLICE, name: 'RL Police', kind: 'police' });
addAgency(certsDir, { id: CSC, name: 'RL CSC', kind: 'children_social_care' });
addAgency(certsDir, { id: GP, name: 'RL GP', kind: 'health' });

const asPractitioner = (tg: TestGateway, agency: string, role: string, sub: string): Promise<HttpResult> =>
  tg.request('/v1/agencies', tg.credentials(agency), {
    headers: { authorization: `Bearer ${tg.token(agency, role, sub)}` },
  });

function assertRateLimited(t: Test, res: HttpResult): void {
  t.equal(res.status, 429);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  t.equal(res.json.code, 'rate_limited');
  t.equal(res.json.status, 429);
  t.equal(res.json.requestId, res.headers['x-request-id']);
  const retryAfter = String(res.headers['retry-after']);
  t.match(retryAfter, /^\d+$/, 'Retry-After is a number of seconds');
  t.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After ${retryAfter} within the minute`);
}

t.test('per practitioner: the call after the limit is 429 with Retry-After', async (t) => {
  const tg = await startTestGateway(t, { certsDir, env: { SGW_RATE_LIMIT_PER_PRACTITIONER: '3' } });
  const sub = `pc-${tag}-a`;
  for (let i = 1; i <= 3; i++) {
    t.equal((await asPractitioner(tg, POLICE, 'police_officer', sub)).status, 200, `call ${i} allowed`);
  }
  assertRateLimited(t, await asPractitioner(tg, POLICE, 'police_officer', sub));
  assertRateLimited(t, await asPractitioner(tg, POLICE, 'police_officer', sub));

  t.equal(
    (await asPractitioner(tg, POLICE, 'police_officer', `pc-${tag}-b`)).status,
    200,
    'another practitioner of the same agency is not limited',
  );
  t.equal(
    (await asPractitioner(tg, GP, 'gp', sub)).status,
    200,
    'the same sub at another agency is another practitioner',
  );
  const live = await tg.request('/health/live', { ca: tg.credentials(POLICE).ca });
  t.equal(live.status, 200, 'health is not rate limited');
});

t.test('the window is shared through Redis by every gateway process', async (t) => {
  const env = { SGW_RATE_LIMIT_PER_PRACTITIONER: '3' };
  const one = await startTestGateway(t, { certsDir, env });
  const two = await startTestGateway(t, { certsDir, env });
  const sub = `pc-${tag}-shared`;
  t.equal((await asPractitioner(one, POLICE, 'police_officer', sub)).status, 200);
  t.equal((await asPractitioner(two, POLICE, 'police_officer', sub)).status, 200);
  t.equal((await asPractitioner(one, POLICE, 'police_officer', sub)).status, 200);
  assertRateLimited(t, await asPractitioner(two, POLICE, 'police_officer', sub));
});

t.test('another deployment on the same Redis (another gateway id) counts apart', async (t) => {
  const env = { SGW_RATE_LIMIT_PER_PRACTITIONER: '2' };
  const ours = await startTestGateway(t, { certsDir, env });
  const theirs = await startTestGateway(t, { certsDir, env: { ...env, SGW_GATEWAY_ID: `other-${tag}` } });
  const sub = `pc-${tag}-apart`;
  t.equal((await asPractitioner(ours, POLICE, 'police_officer', sub)).status, 200);
  t.equal((await asPractitioner(ours, POLICE, 'police_officer', sub)).status, 200);
  assertRateLimited(t, await asPractitioner(ours, POLICE, 'police_officer', sub));
  t.equal((await asPractitioner(theirs, POLICE, 'police_officer', sub)).status, 200, 'its own window');
});

t.test('per agency: practitioners of one agency share its limit', async (t) => {
  const tg = await startTestGateway(t, { certsDir, env: { SGW_RATE_LIMIT_PER_AGENCY: '4' } });
  t.equal((await asPractitioner(tg, CSC, 'social_worker', 'sw-1')).status, 200);
  t.equal((await asPractitioner(tg, CSC, 'social_worker', 'sw-1')).status, 200);
  t.equal((await asPractitioner(tg, CSC, 'team_manager', 'tm-2')).status, 200);
  t.equal((await asPractitioner(tg, CSC, 'team_manager', 'tm-2')).status, 200);
  assertRateLimited(t, await asPractitioner(tg, CSC, 'social_worker', 'sw-1'));
  assertRateLimited(t, await asPractitioner(tg, CSC, 'mash_officer', 'mo-3'));
  t.equal((await asPractitioner(tg, GP, 'gp', 'gp-9')).status, 200, 'another agency is not limited');
});
