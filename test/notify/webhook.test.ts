import { readFileSync, rmSync, statSync } from 'node:fs';
import t, { type Test } from 'tap';
import { runCli } from '../../src/cli/run.js';
import { sweepOverdueConcerns, sweepOverdueRequests } from '../../src/exchange/index.js';
import { certPaths, readRegistry, setWebhookUrl } from '../../src/registry/index.js';
import { concernBody, decisionBody } from '../exchange/concerns-fixtures.js';
import { consentBody, requestBody } from '../exchange/requests-fixtures.js';
import { AGENCIES, makeCerts, type TestGateway } from '../helpers/gateway.js';
import { CSC, CSC2, GP, POLICE, PROBATION, validNhsNumberFrom } from '../helpers/ids.js';
import { until } from '../helpers/redis.js';
import { type Delivery, type Receiver, signedWith, startNotifyGateway, startReceiver } from './fixtures.js';

/**
 * Contract section 12 from the receiving end: every event that exists today reaches the recipient's
 * webhook, signed with its secret (both secrets during a rotation), as { id, type, occurredAt, data }
 * with references only; on PostgreSQL and on the embedded PGlite.
 */

const certsDir = makeCerts();
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

const secretOf = (agency: string) => readFileSync(certPaths(certsDir).webhookSecret(agency), 'utf8').trim();
const nhs = (n: number) => validNhsNumberFrom(981_000_000 + n * 10);
const child = (n: number) => ({
  type: 'child',
  nhsNumber: nhs(n),
  name: { given: 'Robin', family: 'Hookfield' },
  dateOfBirth: '2018-03-02',
});
/** What a webhook must never carry: the subject's identifiers and the practitioners' free text. */
const PERSONAL = [
  'Robin',
  'Hookfield',
  '2018-03-02',
  'Bruises seen',
  'Ongoing investigation',
  'Jo Example',
  'untreated injuries',
  'allocated worker will call',
  '01234 567890',
  '01632 960001',
  'MASH front door',
];

async function withWebhooks(t: Test): Promise<Receiver> {
  const receiver = await startReceiver(t, certsDir);
  for (const a of Object.values(AGENCIES)) setWebhookUrl(certsDir, a.id, receiver.url(`/hook/${a.id}`));
  return receiver;
}

/** Every outbox event has arrived at its agency's URL, once at least. */
async function allDelivered(gw: TestGateway, receiver: Receiver, ms: number): Promise<boolean> {
  return until(async () => {
    const rows = await gw.gateway.db.query<{ event_id: string; agency_id: string }>(
      'SELECT event_id, agency_id FROM outbox',
    );
    return rows.every((r) => receiver.of(r.event_id).some((d) => d.path === `/hook/${r.agency_id}`));
  }, ms);
}

function checkDelivery(t: Test, d: Delivery, row: { event_id: string; type: string; agency_id: string }) {
  t.match(d.headers['content-type'], /^application\/json/, `${row.type}: JSON`);
  t.equal(d.headers['sgw-event-id'], row.event_id, `${row.type}: sgw-event-id`);
  t.same(Object.keys(d.json).sort(), ['data', 'id', 'occurredAt', 'type'], `${row.type}: the four fields`);
  t.equal(d.json.id, row.event_id);
  t.equal(d.json.type, row.type);
  t.ok(!Number.isNaN(Date.parse(d.json.occurredAt)), `${row.type}: occurredAt is a time`);
  t.same(signedWith(d, [secretOf(row.agency_id)]), [secretOf(row.agency_id)], `${row.type}: signed`);
  for (const other of Object.values(AGENCIES).filter((a) => a.id !== row.agency_id)) {
    t.same(signedWith(d, [secretOf(other.id)]), [], `${row.type}: not verifiable with ${other.id}'s secret`);
  }
  for (const p of PERSONAL) t.notOk(d.body.includes(p), `${row.type}: no "${p}"`);
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 9]) t.notOk(d.body.includes(nhs(n)), `${row.type}: no NHS number`);
}

t.test('every event type reaches its agency, signed, within 10 seconds (PostgreSQL)', async (t) => {
  const receiver = await withWebhooks(t);
  const gw = await startNotifyGateway(t, { certsDir });
  const sw = (m: string, p: string, b?: unknown) => gw.call(CSC, 'social_worker', m, p, b);
  const police = (m: string, p: string, b?: unknown) => gw.call(POLICE, 'police_officer', m, p, b);

  const answered = await sw('POST', '/v1/requests', requestBody({ subject: child(0) }));
  t.equal(answered.status, 201, answered.text);
  const responded = await police('POST', `/v1/requests/${answered.json.id}/response`, {
    data: { incidents: { items: [] } },
  });
  t.equal(responded.status, 200, responded.text);
  const declined = await sw('POST', '/v1/requests', requestBody({ subject: child(1) }));
  t.equal(
    (await police('POST', `/v1/requests/${declined.json.id}/decline`, { reason: 'Ongoing investigation.' }))
      .status,
    200,
  );
  const late = await sw(
    'POST',
    '/v1/requests',
    requestBody({ subject: child(2), respondBy: new Date(Date.now() + 1000).toISOString() }),
  );
  t.equal(late.status, 201, late.text);
  const overridden = await sw(
    'POST',
    '/v1/requests',
    requestBody({
      to: GP,
      subject: child(3),
      purpose: 's17_assessment',
      categories: ['registration'],
      justification: 'Bruises seen at nursery; child and family assessment.',
      override: {
        reason: 'risk_of_significant_harm',
        justification: 'Bruises seen; asking would risk harm.',
      },
    }),
  );
  t.equal(overridden.status, 201, overridden.text);
  const consent = await sw('POST', '/v1/consents', consentBody(nhs(4)));
  t.equal(consent.status, 201, consent.text);
  t.equal(
    (await sw('POST', `/v1/consents/${consent.json.id}/withdraw`, { reason: 'The parent withdrew.' })).status,
    200,
  );
  const gp = (m: string, p: string, b?: unknown) => gw.call(GP, 'gp', m, p, b);
  const raised = await gp('POST', '/v1/concerns', concernBody({ child: child(6) }));
  t.equal(raised.status, 201, raised.text);
  const decided = await gw.call(
    CSC,
    'team_manager',
    'POST',
    `/v1/concerns/${raised.json.id}/decision`,
    decisionBody(),
  );
  t.equal(decided.status, 200, decided.text);
  const urgent = await gp('POST', '/v1/concerns', concernBody({ child: child(7), urgency: 'immediate' }));
  t.equal(urgent.status, 201, urgent.text);
  const flag = await gw.call(CSC, 'team_manager', 'PUT', '/v1/flags', {
    subject: child(9),
    flag: 'child_protection_plan',
    validFrom: '2025-01-01',
    contact: { team: 'MASH front door', phone: '01632 960001' },
  });
  t.equal(flag.status, 201, flag.text);
  const searched = await police('POST', '/v1/flags/search', {
    subject: { type: 'child', nhsNumber: nhs(9) },
    purpose: 'risk_to_children_check',
  });
  t.equal(searched.json?.match, 'exact', searched.text);
  t.ok(
    (await sweepOverdueConcerns(gw.gateway.db, gw.gateway.ledger, new Date(Date.now() + 2 * 3600_000))) > 0,
    'the immediate concern, two hours on, is overdue',
  );
  t.ok(
    await until(async () => {
      await sweepOverdueRequests(gw.gateway.db, gw.gateway.ledger);
      const [row] = await gw.gateway.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE type = 'request.overdue'",
      );
      return (row?.n ?? 0) > 0;
    }, 10_000),
    'the late request went overdue',
  );

  const rows = await gw.gateway.db.query<{ event_id: string; type: string; agency_id: string }>(
    'SELECT event_id, type, agency_id FROM outbox ORDER BY id',
  );
  t.same(
    [...new Set(rows.map((r) => r.type))].sort(),
    [
      'concern.decided',
      'concern.overdue',
      'concern.received',
      'consent.overridden',
      'consent.withdrawn',
      'flag.accessed',
      'request.declined',
      'request.overdue',
      'request.received',
      'request.responded',
    ],
    'every event type of today is in the outbox',
  );
  t.ok(await allDelivered(gw, receiver, 10_000), 'every event arrived within 10 seconds');
  for (const row of rows) {
    const got = receiver.of(row.event_id);
    t.equal(got.length, 1, `${row.type} to ${row.agency_id}: delivered once`);
    const d = got[0];
    if (d) {
      t.equal(d.path, `/hook/${row.agency_id}`, `${row.type}: to its own agency's URL`);
      checkDelivery(t, d, row);
    }
  }
  t.notOk(
    receiver.deliveries.some((d) => d.path === `/hook/${CSC2}` || d.path === `/hook/${PROBATION}`),
    'agencies with no event got none',
  );
  const relayed = await gw.gateway.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL',
  );
  t.equal(relayed[0]?.n, 0, 'every row is marked relayed');
});

t.test('signed delivery on the embedded PGlite', async (t) => {
  const receiver = await withWebhooks(t);
  const gw = await startNotifyGateway(t, { certsDir, backend: 'pglite' });
  const r = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', requestBody({ subject: child(10) }));
  t.equal(r.status, 201, r.text);
  t.ok(await allDelivered(gw, receiver, 10_000), 'delivered');
  const [row] = await gw.gateway.db.query<{ event_id: string; type: string; agency_id: string }>(
    'SELECT event_id, type, agency_id FROM outbox',
  );
  const d = row ? receiver.of(row.event_id)[0] : undefined;
  t.ok(d && row);
  if (d && row) checkDelivery(t, d, row);
});

t.test('a secret rotation: both secrets sign until finished, then only the new one', async (t) => {
  const receiver = await withWebhooks(t);
  const gw = await startNotifyGateway(t, { certsDir });
  const old = secretOf(GP);
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await runCli(
      argv,
      { stdout: (s) => out.push(s), stderr: (s) => out.push(s) },
      {
        SGW_CERTS_DIR: certsDir,
      },
    );
    return { code, out: out.join('\n') };
  };
  /** Sends consent.withdrawn events to the GP until one arrives that `pred` accepts. */
  const eventUntil = async (n: number, pred: (d: Delivery) => boolean): Promise<Delivery | undefined> => {
    let found: Delivery | undefined;
    await until(async () => {
      const c = await gw.call(CSC, 'social_worker', 'POST', '/v1/consents', consentBody(nhs(n)));
      await gw.call(CSC, 'social_worker', 'POST', `/v1/consents/${c.json.id}/withdraw`, {
        reason: 'Withdrawn.',
      });
      await receiver.waitFor((ds) => ds.some((d) => d.json?.data?.consentId === c.json.id), 10_000);
      found = receiver.deliveries.find((d) => d.json?.data?.consentId === c.json.id && pred(d));
      return found !== undefined;
    }, 20_000);
    return found;
  };

  const rotated = await cli('agency', 'webhook-secret', 'rotate', '--id', GP);
  t.equal(rotated.code, 0, rotated.out);
  const fresh = secretOf(GP);
  t.not(fresh, old, 'a new secret in webhook.secret');
  t.equal(rotated.out.split(fresh).length - 1, 1, 'the new secret is printed once');
  t.notOk(rotated.out.includes(old), 'the old secret is not printed');
  t.equal(statSync(certPaths(certsDir).webhookSecret(GP)).mode & 0o777, 0o600, 'webhook.secret stays 0600');
  const record = readRegistry(certsDir).agencies.find((a) => a.id === GP);
  t.equal(record?.webhookSecret, fresh);
  t.equal(record?.previousWebhookSecret, old, 'the previous secret is kept for the grace period');
  const grace = Date.parse(record?.previousWebhookSecretUntil ?? '') - Date.now();
  t.ok(grace > 23 * 3600_000 && grace <= 24 * 3600_000, 'for 24 hours');

  const during = await eventUntil(11, (d) => signedWith(d, [fresh]).length === 1);
  t.ok(during, 'the running gateway signs with the new secret within seconds');
  if (during) {
    t.same(signedWith(during, [old]), [old], 'a receiver still holding the old secret accepts it');
    t.same(signedWith(during, [fresh]), [fresh], 'a receiver holding the new secret accepts it');
    t.equal(String(during.headers['sgw-signature']).match(/v1=/g)?.length, 2, 'v1= twice');
  }

  const finished = await cli('agency', 'webhook-secret', 'finish', '--id', GP);
  t.equal(finished.code, 0, finished.out);
  t.equal(readRegistry(certsDir).agencies.find((a) => a.id === GP)?.previousWebhookSecret, undefined, 'gone');
  const after = await eventUntil(12, (d) => signedWith(d, [old]).length === 0);
  t.ok(after, 'after finish the old secret no longer signs');
  if (after) {
    t.same(signedWith(after, [fresh]), [fresh]);
    t.equal(String(after.headers['sgw-signature']).match(/v1=/g)?.length, 1, 'v1= once');
  }
});
