import t from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import {
  adultSubject,
  CSC,
  childSubject,
  GP,
  harness,
  nhsNumber,
  POLICE,
  PROBATION,
  publishBody,
} from './flags-fixtures.js';

/**
 * Flags: who may publish which flag type, who may call the routes at all, and bad input (400 naming the
 * field, never echoing a value, and writing nothing). Over real HTTPS on PostgreSQL; what does not
 * depend on the backend is not run twice.
 */
t.test('flags: permissions and bad input (postgres)', async (t) => {
  const gw = await startTestGateway(t, { backend: 'postgres' });
  const h = harness(gw);
  let n = 100;
  const child = () => childSubject(nhsNumber(n++));
  const adult = () => adultSubject(`2010/${n++}A`);
  const unborn = () => ({
    type: 'unborn',
    nhsNumber: nhsNumber(n++),
    name: { given: 'Jo', family: 'Example' },
    expectedDeliveryDate: '2027-03-01',
  });

  t.test('who may publish what (contract section 7): other types are 403 forbidden', async (t) => {
    const cases: Array<[string, string, string, () => object, number]> = [
      [CSC, 'social_worker', 'child_protection_plan', child, 201],
      [CSC, 'mash_officer', 'looked_after_child', child, 201],
      [CSC, 'team_manager', 'unborn_child_protection_plan', unborn, 201],
      // The flag on the mother: she may be named herself, as an adult or (under 18) a child.
      [CSC, 'team_manager', 'unborn_child_protection_plan', adult, 201],
      [CSC, 'team_manager', 'unborn_child_protection_plan', child, 201],
      [CSC, 'social_worker', 'mappa_managed', adult, 403],
      [CSC, 'social_worker', 'risk_to_children', adult, 403],
      [CSC, 'social_worker', 'registered_sex_offender', adult, 403],
      [PROBATION, 'probation_officer', 'mappa_managed', adult, 201],
      [PROBATION, 'mappa_coordinator', 'risk_to_children', adult, 201],
      [PROBATION, 'probation_officer', 'registered_sex_offender', adult, 403],
      [PROBATION, 'probation_officer', 'child_protection_plan', child, 403],
      [POLICE, 'police_officer', 'registered_sex_offender', adult, 201],
      [POLICE, 'public_protection_officer', 'risk_to_children', adult, 201],
      [POLICE, 'police_officer', 'mappa_managed', adult, 403],
      [POLICE, 'police_officer', 'looked_after_child', child, 403],
      [GP, 'gp', 'child_protection_plan', child, 403],
      [GP, 'safeguarding_lead', 'risk_to_children', adult, 403],
      [CSC, 'auditor', 'child_protection_plan', child, 403],
      [CSC, 'agency_admin', 'child_protection_plan', child, 403],
    ];
    for (const [agency, role, flag, subject, status] of cases) {
      const r = await h.publish(agency, role, publishBody(subject(), flag));
      t.equal(r.status, status, `${agency} ${role} publishing ${flag}: ${r.text}`);
      if (status === 403) t.equal(r.json.code, 'forbidden');
    }
    const [row] = await gw.gateway.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM flags WHERE agency_id = $1 AND flag IN ('mappa_managed', 'risk_to_children', 'registered_sex_offender')",
      [CSC],
    );
    t.equal(row?.n, 0, 'nothing refused was written');
  });

  t.test('auditors and admins neither search nor end flags', async (t) => {
    const body = { subject: child(), purpose: 's47_enquiry' };
    for (const role of ['auditor', 'agency_admin']) {
      t.equal((await h.search(CSC, role, body)).status, 403);
      t.equal((await h.end(CSC, role, '00000000-0000-4000-8000-000000000000')).status, 403);
    }
    t.equal(
      (await h.end(GP, 'gp', '00000000-0000-4000-8000-000000000000')).status,
      403,
      'a GP publishes none',
    );
  });

  t.test('bad publications are 400, name the field, echo no value and write nothing', async (t) => {
    const before = await h.head();
    const [flagsBefore] = await gw.gateway.db.query<{ n: number }>('SELECT count(*)::int AS n FROM flags');
    const cases: Array<[string, object, string]> = [
      ['unknown flag type', publishBody(child(), 'on_a_watch_list'), '/flag'],
      [
        'a date that does not exist',
        publishBody(child(), 'child_protection_plan', { validFrom: '2026-02-30' }),
        '/validFrom',
      ],
      ['not a date', publishBody(child(), 'child_protection_plan', { validFrom: 'yesterday' }), '/validFrom'],
      [
        'validTo before validFrom',
        publishBody(child(), 'child_protection_plan', { validFrom: '2026-03-01', validTo: '2026-02-01' }),
        '/validTo',
      ],
      [
        'validTo at validFrom',
        publishBody(child(), 'child_protection_plan', {
          validFrom: '2026-03-01T10:00:00Z',
          validTo: '2026-03-01T10:00:00Z',
        }),
        '/validTo',
      ],
      [
        'an adult flag on a child',
        publishBody(child(), 'child_protection_plan', { subject: adult() }),
        '/subject/type',
      ],
      [
        'a child protection plan on an unborn child',
        publishBody(unborn(), 'child_protection_plan'),
        '/subject/type',
      ],
      [
        'an NHS number with a bad check digit',
        publishBody(childSubject('9434765918'), 'child_protection_plan'),
        '/subject/nhsNumber',
      ],
      [
        'no usable identifier',
        publishBody({ type: 'child', name: { given: 'A', family: 'B' } }, 'child_protection_plan'),
        '/subject',
      ],
      [
        'nested details',
        publishBody(child(), 'child_protection_plan', { details: { risk: { level: 2 } } }),
        '/details/risk',
      ],
      [
        'a detail no policy could name',
        publishBody(child(), 'child_protection_plan', { details: { 'risk level': 2 } }),
        '/details/risk level',
      ],
      [
        'too many details',
        publishBody(child(), 'child_protection_plan', {
          details: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`d${i}`, i])),
        }),
        '/details',
      ],
      [
        'a detail too long',
        publishBody(child(), 'child_protection_plan', { details: { note: 'x'.repeat(2001) } }),
        '/details/note',
      ],
      [
        'details too large in all',
        publishBody(child(), 'child_protection_plan', {
          details: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`d${i}`, 'x'.repeat(2000)])),
        }),
        '/details',
      ],
      [
        'a contact without a team',
        publishBody(child(), 'child_protection_plan', { contact: { phone: '1' } }),
        '/contact/team',
      ],
      ['an unknown field', publishBody(child(), 'child_protection_plan', { comment: 'x' }), '/comment'],
    ];
    for (const [desc, body, path] of cases) {
      const r = await h.publish(CSC, 'social_worker', body);
      t.equal(r.status, 400, `${desc}: ${r.text}`);
      t.equal(r.json?.code, 'validation_failed', desc);
      t.ok(
        r.json?.errors?.some((e: { path: string }) => e.path === path),
        `${desc}: an error at ${path} (${JSON.stringify(r.json?.errors)})`,
      );
      t.notOk(r.text.includes('9434765918') || r.text.includes('xxxxxxxx'), `${desc}: no value echoed`);
    }
    const offender = await h.publish(PROBATION, 'probation_officer', publishBody(child(), 'mappa_managed'));
    t.equal(offender.status, 400, 'a child on an offender flag');
    t.same(offender.json.errors, [
      { path: '/subject/type', message: 'must be "adult" for a mappa_managed flag' },
    ]);
    t.equal(await h.head(), before, 'no ledger entry');
    const [flagsAfter] = await gw.gateway.db.query<{ n: number }>('SELECT count(*)::int AS n FROM flags');
    t.equal(flagsAfter?.n, flagsBefore?.n, 'no flag');
  });

  t.test('bad searches are 400 and ledger nothing', async (t) => {
    const before = await h.head();
    const subject = { type: 'child', nhsNumber: nhsNumber(1) };
    const cases: Array<[string, object, string]> = [
      [
        '11 subjects',
        { subjects: Array.from({ length: 11 }, () => subject), purpose: 's47_enquiry' },
        '/subjects',
      ],
      ['no subjects', { subjects: [], purpose: 's47_enquiry' }, '/subjects'],
      ['both subject and subjects', { subject, subjects: [subject], purpose: 's47_enquiry' }, '/'],
      ['neither subject nor subjects', { purpose: 's47_enquiry' }, '/'],
      ['no purpose', { subject }, '/purpose'],
      ['an unknown purpose', { subject, purpose: 'curiosity' }, '/purpose'],
      [
        'a case reference too long',
        { subject, purpose: 's47_enquiry', caseReference: 'x'.repeat(65) },
        '/caseReference',
      ],
      [
        'a household member with a bad check digit',
        { subjects: [subject, { type: 'child', nhsNumber: '9434765918' }], purpose: 's47_enquiry' },
        '/subjects/1/nhsNumber',
      ],
      [
        'a subject by name alone',
        { subject: { type: 'adult', name: { given: 'A', family: 'B' } }, purpose: 's47_enquiry' },
        '/subject',
      ],
      ['an unknown field', { subject, purpose: 's47_enquiry', reason: 'x' }, '/reason'],
    ];
    for (const [desc, body, path] of cases) {
      const r = await h.search(POLICE, 'police_officer', body);
      t.equal(r.status, 400, `${desc}: ${r.text}`);
      t.ok(
        r.json?.errors?.some((e: { path: string }) => e.path === path),
        `${desc}: an error at ${path} (${JSON.stringify(r.json?.errors)})`,
      );
      t.notOk(r.text.includes('9434765918'), `${desc}: no value echoed`);
    }
    t.equal(await h.head(), before, 'no ledger entry');
  });

  t.test('ten subjects are a household check', async (t) => {
    const subjects = Array.from({ length: 10 }, (_, i) => ({ type: 'child', nhsNumber: nhsNumber(200 + i) }));
    const r = await h.search(CSC, 'mash_officer', { subjects, purpose: 'strategy_discussion' });
    t.equal(r.status, 200, r.text);
    t.equal(r.json.results.length, 10);
    t.ok(r.json.results.every((a: { match: string }) => a.match === 'none'));
  });
  t.test('fail closed: no search answer, publication or end when the ledger cannot record', async (t) => {
    const { db } = gw.gateway;
    const subject = child();
    const id = await h.published(CSC, 'social_worker', publishBody(subject, 'child_protection_plan'));
    const count = async (sql: string, params: unknown[] = []) =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0]?.n;
    const eventsBefore = await count('outbox');
    const flagsBefore = await count('flags');
    // A test-only fault: the database refuses every ledger write, as a full disk would.
    await db.query(`CREATE FUNCTION test_refuse_queue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
    await db.query(
      'CREATE TRIGGER test_refuse_queue BEFORE INSERT ON ledger_queue FOR EACH ROW EXECUTE FUNCTION test_refuse_queue()',
    );
    let healed = false;
    const heal = async () => {
      if (healed) return;
      healed = true;
      await db.query('DROP TRIGGER test_refuse_queue ON ledger_queue');
      await db.query('DROP FUNCTION test_refuse_queue()');
    };
    t.teardown(heal);
    const expect503 = (r: { status: number; json: { code?: string }; text: string }, what: string) => {
      t.equal(r.status, 503, `${what}: ${r.text}`);
      t.equal(r.json.code, 'audit_unavailable', what);
      t.notMatch(
        r.text,
        /disk full|ledger_queue|trigger|child_protection_plan/,
        `${what}: nothing else said`,
      );
    };
    expect503(await h.search(GP, 'gp', { subject, purpose: 'safeguarding_concern' }), 'search');
    expect503(
      await h.search(GP, 'gp', { subjects: [subject, child()], purpose: 'safeguarding_concern' }),
      'household',
    );
    expect503(await h.publish(CSC, 'social_worker', publishBody(child(), 'looked_after_child')), 'publish');
    expect503(await h.end(CSC, 'social_worker', id), 'end');
    t.equal(await count('outbox'), eventsBefore, 'no flag.accessed left behind');
    t.equal(await count('flags'), flagsBefore, 'no flag published');
    t.equal(await count('flags WHERE ended_at IS NOT NULL AND id = $1', [id]), 0, 'not ended');

    await heal();
    const found = await h.search(GP, 'gp', { subject, purpose: 'safeguarding_concern' });
    t.equal(found.json.match, 'exact', 'once the ledger records again, the search answers');
  });
});
