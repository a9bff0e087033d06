import t from 'tap';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';
import {
  adultSubject,
  assertNoPersonalData,
  CONTACT,
  CSC,
  CSC2,
  childSubject,
  GP,
  harness,
  MAPPA_NOTES,
  nhsNumber,
  POLICE,
  PROBATION,
  publishBody,
  seedFlags,
  UUID,
} from './flags-fixtures.js';

/**
 * Flags (contract section 7) over real HTTPS, on both backends: publish and re-publish, exact / possible /
 * none matches, what the policies let each searcher see, validity, the unborn child's plan, and no
 * personal data outside the flag record. The household check, flag.accessed and ending:
 * flags-household.test.ts. Bad input and who may publish what: flags-validation.test.ts.
 */
for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`flags (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const h = harness(gw);
    const { zoeNhs, zoe, leePnc, cpPlan } = await seedFlags(h);

    t.test(
      'publishing: 201 with an id, then 200 with the same id for the same subject + flag + agency',
      async (t) => {
        t.match(cpPlan, UUID);
        const before = await h.head();
        const again = await h.publish(
          CSC,
          'team_manager',
          publishBody(
            childSubject(zoeNhs, { name: { given: 'Zoe', family: 'OBrien Smith' } }),
            'child_protection_plan',
            {
              contact: { ...CONTACT, phone: '01632 960099' },
            },
          ),
        );
        t.equal(again.status, 200, again.text);
        t.same(again.json, { id: cpPlan });
        const otherAgency = await h.publish(CSC2, 'social_worker', publishBody(zoe, 'child_protection_plan'));
        t.equal(otherAgency.status, 201, 'another agency’s flag on the same child is its own');
        t.not(otherAgency.json.id, cpPlan);
        const otherType = await h.publish(CSC, 'social_worker', publishBody(zoe, 'looked_after_child'));
        t.equal(otherType.status, 201, 'another flag type is another flag');
        t.equal((await h.end(CSC2, 'social_worker', otherAgency.json.id)).status, 200);
        t.equal((await h.end(CSC, 'social_worker', otherType.json.id)).status, 200);

        const published = (await h.entries(before)).filter((e) => e.action === 'flag.published');
        t.equal(published.length, 3);
        t.match(published[0], {
          actor_agency: CSC,
          actor_role: 'team_manager',
          flag_id: cpPlan,
          decision: 'permit',
          categories: ['flags'],
          fields: { flags: ['flag', 'contact'] },
          outcome: 'updated',
        });
        t.match(published[0]?.subject_ref, /^[0-9a-f]{64}$/);
        t.same(
          published.slice(1).map((e) => e.outcome),
          ['created', 'created'],
        );

        // The update is what searches now show.
        const found = await h.search(POLICE, 'police_officer', {
          subject: { type: 'child', nhsNumber: zoeNhs },
          purpose: 'risk_to_children_check',
        });
        t.equal(found.json.results[0]?.contact?.phone, '01632 960099');
      },
    );

    t.test(
      'an exact match on the NHS number: the flag, its agency and contact; no details for this searcher',
      async (t) => {
        const r = await h.search(POLICE, 'police_officer', {
          subject: {
            type: 'child',
            nhsNumber: `${zoeNhs.slice(0, 3)} ${zoeNhs.slice(3, 6)} ${zoeNhs.slice(6)}`,
          },
          purpose: 'risk_to_children_check',
          caseReference: 'INC-2026-0042',
        });
        t.equal(r.status, 200, r.text);
        t.same(Object.keys(r.json).sort(), ['caseReference', 'match', 'results']);
        t.equal(r.json.match, 'exact');
        t.equal(r.json.caseReference, 'INC-2026-0042');
        t.equal(r.json.results.length, 1);
        t.same(r.json.results[0], {
          flag: 'child_protection_plan',
          match: 'exact',
          agency: { id: CSC, name: AGENCIES.csc.name, kind: 'children_social_care' },
          contact: { ...CONTACT, phone: '01632 960099' },
          validFrom: '2025-01-01T00:00:00.000Z',
        });
      },
    );

    t.test(
      'a possible match: the name in another case and without accents, with the date of birth',
      async (t) => {
        const r = await h.search(GP, 'gp', {
          subject: {
            type: 'child',
            name: { given: 'ZOE', family: 'OBRIEN SMITH' },
            dateOfBirth: '2019-05-04',
          },
          purpose: 'safeguarding_concern',
        });
        t.equal(r.status, 200, r.text);
        t.equal(r.json.match, 'possible');
        t.same(
          r.json.results.map((x: { flag: string; match: string; agency: { id: string } }) => [
            x.flag,
            x.match,
            x.agency.id,
          ]),
          [['child_protection_plan', 'possible', CSC]],
        );
        t.ok(r.json.results[0].contact, 'who to call');

        const wrongDob = await h.search(GP, 'gp', {
          subject: {
            type: 'child',
            name: { given: 'Zoë', family: "O'Brien-Smith" },
            dateOfBirth: '2019-05-05',
          },
          purpose: 'safeguarding_concern',
        });
        t.same(wrongDob.json, { match: 'none', results: [] });
      },
    );

    t.test(
      'a demographic match never shows details, even to a searcher who sees them on an exact one',
      async (t) => {
        const exact = await h.search(POLICE, 'police_officer', {
          subject: { type: 'adult', pncId: '2001/12345X' },
          purpose: 'risk_to_children_check',
        });
        const byPnc = exact.json.results.find((x: { flag: string }) => x.flag === 'mappa_managed');
        t.same(byPnc.details, { level: 2, category: 1 }, 'police see details.level and details.category');
        const possible = await h.search(POLICE, 'police_officer', {
          subject: {
            type: 'adult',
            name: { given: 'LEE', family: 'MARSH DOYLE' },
            dateOfBirth: '1984-11-23',
          },
          purpose: 'risk_to_children_check',
        });
        t.equal(possible.json.match, 'possible');
        t.ok(possible.json.results.length >= 1);
        for (const x of possible.json.results) {
          t.equal(x.match, 'possible');
          t.notOk('details' in x, `${x.flag}: no details`);
          t.ok(x.contact);
        }
      },
    );

    t.test('an identifier that differs defeats an agreeing name and date of birth', async (t) => {
      const r = await h.search(GP, 'gp', {
        subject: { ...zoe, nhsNumber: nhsNumber(2) },
        purpose: 'safeguarding_concern',
      });
      t.same(r.json, { match: 'none', results: [] });
      const pnc = await h.search(POLICE, 'police_officer', {
        subject: adultSubject('2002/12345X'),
        purpose: 'risk_to_children_check',
      });
      t.same(pnc.json, { match: 'none', results: [] });
    });

    t.test('flag types and detail fields are the policy’s', async (t) => {
      const search = (agency: string, role: string, purpose: string) =>
        h.search(agency, role, { subject: { type: 'adult', pncId: leePnc }, purpose });
      const police = await search(POLICE, 'police_officer', 'risk_to_children_check');
      t.same(
        police.json.results.map((x: { flag: string; agency: { id: string } }) => [x.flag, x.agency.id]),
        [
          ['mappa_managed', PROBATION],
          ['risk_to_children', POLICE],
        ],
      );
      t.same(police.json.results[1].details, { level: 'high' });
      const sw = await search(CSC, 'social_worker', 's47_enquiry');
      t.equal(sw.json.match, 'exact');
      t.ok(
        sw.json.results.length === 2 && sw.json.results.every((x: object) => !('details' in x)),
        'no details',
      );
      const gp = await search(GP, 'gp', 'safeguarding_concern');
      t.same(gp.json, { match: 'none', results: [] }, 'a GP sees no offender flags');
      const coordinator = await search(PROBATION, 'mappa_coordinator', 'mappa_risk_assessment');
      t.same(
        coordinator.json.results[0].details,
        { level: 2, category: 1, notes: MAPPA_NOTES },
        'every detail',
      );
      const wrongPurpose = await search(POLICE, 'police_officer', 'early_help');
      t.same(wrongPurpose.json, { match: 'none', results: [] }, 'no rule for this purpose: nothing shown');
    });

    t.test('flags not yet valid, or no longer valid, are not found', async (t) => {
      const future = childSubject(nhsNumber(5));
      const past = childSubject(nhsNumber(6));
      const nextYear = `${new Date().getUTCFullYear() + 1}-06-01`;
      await h.published(
        CSC,
        'social_worker',
        publishBody(future, 'child_protection_plan', { validFrom: nextYear }),
      );
      await h.published(
        CSC,
        'social_worker',
        publishBody(past, 'child_protection_plan', { validFrom: '2020-01-01', validTo: '2020-12-31' }),
      );
      for (const s of [future, past]) {
        const r = await h.search(POLICE, 'police_officer', { subject: s, purpose: 'risk_to_children_check' });
        t.same(r.json, { match: 'none', results: [] });
      }
      const withEnd = childSubject(nhsNumber(7));
      await h.published(
        CSC,
        'social_worker',
        publishBody(withEnd, 'child_protection_plan', { validTo: nextYear }),
      );
      const r = await h.search(POLICE, 'police_officer', {
        subject: withEnd,
        purpose: 'risk_to_children_check',
      });
      t.match(r.json.results[0], { validTo: /^\d{4}-06-01T23:00:00\.000Z$/ });
    });

    t.test('the unborn child’s plan is flagged on the mother and found by her identifiers', async (t) => {
      const motherNhs = nhsNumber(8);
      const unborn = {
        type: 'unborn',
        nhsNumber: motherNhs,
        name: { given: 'Amélie', family: 'Example' },
        expectedDeliveryDate: '2027-02-01',
      };
      await h.published(CSC, 'mash_officer', publishBody(unborn, 'unborn_child_protection_plan'));
      const byNhs = await h.search(GP, 'gp', {
        subject: { type: 'adult', nhsNumber: motherNhs },
        purpose: 'safeguarding_concern',
      });
      t.match(byNhs.json, { match: 'exact', results: [{ flag: 'unborn_child_protection_plan' }] });
      const byName = await h.search(GP, 'gp', {
        subject: {
          type: 'unborn',
          name: { given: 'AMELIE', family: 'example' },
          expectedDeliveryDate: '2027-02-01',
        },
        purpose: 'safeguarding_concern',
      });
      t.match(byName.json, {
        match: 'possible',
        results: [{ flag: 'unborn_child_protection_plan', match: 'possible' }],
      });
    });

    t.test(
      'no personal data in the ledger, its queue, the outbox, the inbox or the flag index',
      async (t) => {
        await assertNoPersonalData(t, gw, [zoeNhs, nhsNumber(8), 'Amélie', 'amelie', '2027-02-01']);
      },
    );
  });
}
