import t from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  CSC2,
  child,
  concernBody,
  concernHarness,
  decisionBody,
  GP,
  nhsNumber,
  POLICE,
  PROBATION,
} from './concerns-fixtures.js';

/**
 * Who may raise and decide a concern, and what a concern must look like (contract sections 2, 3 and 5):
 * every refusal is a problem+json with a stable code, names the bad field and never echoes a value, and
 * leaves nothing stored.
 */
t.test('concerns: roles and validation (postgres)', async (t) => {
  const gw = await startTestGateway(t);
  const h = concernHarness(gw);
  const stored = async () =>
    (await gw.gateway.db.query<{ n: number }>('SELECT count(*)::int AS n FROM concerns'))[0]?.n ?? -1;

  t.test('every practice role of a non-CSC agency may raise one', async (t) => {
    for (const [agency, role] of [
      [GP, 'gp'],
      [GP, 'safeguarding_lead'],
      [POLICE, 'police_officer'],
      [POLICE, 'public_protection_officer'],
      [PROBATION, 'probation_officer'],
      [PROBATION, 'mappa_coordinator'],
    ] as const) {
      const r = await h.as(agency, role)('POST', '/v1/concerns', concernBody());
      t.equal(r.status, 201, `${role}: ${r.text}`);
      const read = await h.sw('GET', `/v1/concerns/${r.json.id}`);
      t.equal(read.json.from, agency);
      t.equal(read.json.referrer.role, role);
    }
  });

  t.test('CSC practitioners, auditors and admins may not: 403 before the body is looked at', async (t) => {
    const before = await stored();
    for (const [agency, role] of [
      [CSC, 'social_worker'],
      [CSC, 'team_manager'],
      [CSC, 'mash_officer'],
      [CSC2, 'social_worker'],
      [GP, 'auditor'],
      [POLICE, 'agency_admin'],
    ] as const) {
      for (const body of [concernBody({ to: CSC2 }), { nonsense: true }]) {
        const r = await h.as(agency, role)('POST', '/v1/concerns', body);
        t.equal(r.status, 403, `${agency} ${role}: ${r.text}`);
        t.equal(r.json.code, 'forbidden');
      }
    }
    t.equal(await stored(), before, 'nothing stored');
  });

  t.test('auditors and admins neither read nor decide', async (t) => {
    const { id } = await h.raise();
    for (const [agency, role] of [
      [CSC, 'auditor'],
      [CSC, 'agency_admin'],
      [GP, 'auditor'],
    ] as const) {
      t.equal((await h.as(agency, role)('GET', `/v1/concerns/${id}`)).status, 403, `${role} read`);
      const d = await h.as(agency, role)('POST', `/v1/concerns/${id}/decision`, decisionBody());
      t.equal(d.status, 403, `${role} decide`);
    }
    // Any CSC practice role of the addressed agency decides.
    const d = await h.as(CSC, 'team_manager')('POST', `/v1/concerns/${id}/decision`, decisionBody());
    t.equal(d.status, 200, d.text);
  });

  t.test('`to` must be an active children_social_care agency', async (t) => {
    const before = await stored();
    for (const [to, message] of [
      [POLICE, 'must be a children_social_care agency'],
      [GP, 'must be a children_social_care agency'],
      [PROBATION, 'must be a children_social_care agency'],
      ['no-such-agency', 'is not an active agency'],
    ] as const) {
      const r = await h.gp('POST', '/v1/concerns', concernBody({ to }));
      t.equal(r.status, 400, `${to}: ${r.text}`);
      t.equal(r.json.code, 'validation_failed');
      t.same(r.json.errors, [{ path: '/to', message }]);
    }
    t.equal(await stored(), before);
  });

  t.test('the child must be a child (or unborn) with a usable identifier', async (t) => {
    const bad = async (body: unknown, path: string) => {
      const r = await h.gp('POST', '/v1/concerns', body);
      t.equal(r.status, 400, `${path}: ${r.text}`);
      t.equal(r.json.code, 'validation_failed');
      t.ok(
        r.json.errors.some((e: { path: string }) => e.path.startsWith(path)),
        `names ${path}: ${JSON.stringify(r.json.errors)}`,
      );
      t.notOk(r.text.includes('Example'), 'no value echoed');
      return r;
    };
    await bad(concernBody({ child: { ...child(nhsNumber(30)), type: 'adult' } }), '/child/type');
    await bad(
      concernBody({ child: { ...child(nhsNumber(30)), nhsNumber: '9434765918' } }),
      '/child/nhsNumber',
    );
    await bad(concernBody({ child: { type: 'child', name: { given: 'Sam', family: 'Example' } } }), '/child');
    await bad(
      concernBody({ householdMembers: [{ type: 'adult', nhsNumber: '9434765918' }] }),
      '/householdMembers/0',
    );
    await bad(
      concernBody({
        householdMembers: Array.from({ length: 21 }, () => ({ type: 'adult', pncId: '01/1A' })),
      }),
      '/householdMembers',
    );
    // An unborn child, known by a parent's name and the expected delivery date, is a child here.
    const unborn = await h.gp(
      'POST',
      '/v1/concerns',
      concernBody({
        child: {
          type: 'unborn',
          name: { given: 'Jo', family: 'Example' },
          expectedDeliveryDate: '2027-02-01',
        },
        householdMembers: [
          { type: 'adult', name: { given: 'Jo', family: 'Example' }, dateOfBirth: '1999-01-01' },
        ],
      }),
    );
    t.equal(unborn.status, 201, unborn.text);
  });

  t.test('the body as contract section 5 has it, and nothing else', async (t) => {
    const before = await stored();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['no categories', { categories: [] }, '/categories'],
      ['an unknown category', { categories: ['neglect', 'bullying'] }, '/categories/1'],
      ['a category twice', { categories: ['neglect', 'neglect'] }, '/categories'],
      ['an empty summary', { summary: '' }, '/summary'],
      ['a summary over 4000', { summary: 'x'.repeat(4001) }, '/summary'],
      ['an unknown urgency', { urgency: 'soon' }, '/urgency'],
      ['an unknown consent status', { consent: { status: 'maybe' } }, '/consent/status'],
      ['a consent with more', { consent: { status: 'given', by: 'mother' } }, '/consent/by'],
      ['no way to reach the referrer', { referrerContact: {} }, '/referrerContact'],
      ['a bad email', { referrerContact: { email: 'not an email' } }, '/referrerContact/email'],
      ['a bad phone', { referrerContact: { phone: 'call me' } }, '/referrerContact/phone'],
      [
        'a contact with more',
        { referrerContact: { phone: '01234 567890', fax: '1' } },
        '/referrerContact/fax',
      ],
      ['a case reference over 64', { caseReference: 'x'.repeat(65) }, '/caseReference'],
      ['an unknown field', { priority: 'high' }, '/priority'],
    ];
    for (const [what, over, path] of cases) {
      const r = await h.gp('POST', '/v1/concerns', concernBody(over));
      t.equal(r.status, 400, `${what}: ${r.text}`);
      t.equal(r.json.code, 'validation_failed', what);
      t.ok(
        r.json.errors.some((e: { path: string }) => e.path === path),
        `${what} names ${path}: ${JSON.stringify(r.json.errors)}`,
      );
    }
    for (const field of ['to', 'child', 'categories', 'summary', 'urgency', 'consent', 'referrerContact']) {
      const body: Record<string, unknown> = concernBody();
      delete body[field];
      const r = await h.gp('POST', '/v1/concerns', body);
      t.equal(r.status, 400, `without ${field}`);
    }
    t.equal(await stored(), before, 'nothing stored');
    // Consent without a reason, all seven categories, and a phone alone are fine.
    const ok = await h.gp(
      'POST',
      '/v1/concerns',
      concernBody({
        consent: { status: 'given' },
        categories: [
          'neglect',
          'physical_abuse',
          'sexual_abuse',
          'emotional_abuse',
          'domestic_abuse',
          'exploitation',
          'other',
        ],
        referrerContact: { phone: '+44 1234 567890' },
      }),
    );
    t.equal(ok.status, 201, ok.text);
  });

  t.test('a decision as contract section 5 has it', async (t) => {
    const { id } = await h.raise();
    const cases: Array<[string, Record<string, unknown>]> = [
      ['an unknown outcome', decisionBody({ outcome: 'watch_and_wait' })],
      ['no feedback', { outcome: 'early_help' }],
      ['empty feedback', decisionBody({ feedbackToReferrer: '' })],
      ['feedback over 2000', decisionBody({ feedbackToReferrer: 'x'.repeat(2001) })],
      ['a note over 4000', decisionBody({ note: 'x'.repeat(4001) })],
      ['an unknown field', decisionBody({ closeCase: true })],
    ];
    for (const [what, body] of cases) {
      const r = await h.sw('POST', `/v1/concerns/${id}/decision`, body);
      t.equal(r.status, 400, `${what}: ${r.text}`);
      t.equal(r.json.code, 'validation_failed');
    }
    t.equal((await h.sw('GET', `/v1/concerns/${id}`)).json.status, 'submitted', 'still undecided');
    for (const outcome of ['no_further_action', 'early_help', 's47_enquiry', 'police_referral']) {
      const c = await h.raise();
      const r = await h.sw('POST', `/v1/concerns/${c.id}/decision`, decisionBody({ outcome }));
      t.equal(r.status, 200, `${outcome}: ${r.text}`);
    }
  });

  t.test('two decisions at once: exactly one is taken', async (t) => {
    for (let round = 0; round < 3; round++) {
      const { id } = await h.raise();
      const results = await Promise.all([
        h.sw('POST', `/v1/concerns/${id}/decision`, decisionBody({ outcome: 'early_help' })),
        h.as(CSC, 'mash_officer')(
          'POST',
          `/v1/concerns/${id}/decision`,
          decisionBody({ outcome: 's47_enquiry' }),
        ),
      ]);
      t.same(results.map((r) => r.status).sort(), [200, 409], results.map((r) => r.text).join(' | '));
      const winner = results.find((r) => r.status === 200);
      const decided = (await h.events(id)).filter((e) => e.type === 'concern.decided');
      t.equal(decided.length, 1, 'one concern.decided');
      t.equal(decided[0]?.data.outcome, winner?.json.outcome, 'the winner’s');
      const entries = (await h.entries(CSC, id, '&action=concern.decided')).map((e) => e.outcome);
      t.same(entries, [winner?.json.outcome], 'one concern.decided in the ledger');
    }
  });
});
