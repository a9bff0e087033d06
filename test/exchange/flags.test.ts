import t from 'tap';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';
import {
  adultSubject,
  CONTACT,
  CSC,
  CSC2,
  childSubject,
  GP,
  harness,
  nhsNumber,
  POLICE,
  PROBATION,
  publishBody,
  UUID,
} from './flags-fixtures.js';

/**
 * Flags (contract section 7) over real HTTPS, on both backends: publish and re-publish, exact / possible /
 * none matches, what the policies let each searcher see, the household check, ending a flag,
 * flag.accessed to the publisher alone, isolation, and no personal data in the ledger, the outbox, the
 * inbox or the flag index. Bad input and who may publish what: flags-validation.test.ts.
 */
const MAPPA_NOTES = 'Lives with a partner and her two children';

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`flags (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const h = harness(gw);

    // The child on a plan, and the adult MAPPA-managed by probation (and a risk to children for the police).
    const zoeNhs = nhsNumber(1);
    const zoe = childSubject(zoeNhs);
    const leePnc = '2001/0012345X';
    const lee = adultSubject(leePnc);
    const cpPlan = await h.published(CSC, 'social_worker', publishBody(zoe, 'child_protection_plan'));
    await h.published(
      PROBATION,
      'mappa_coordinator',
      publishBody(lee, 'mappa_managed', {
        details: { level: 2, category: 1, notes: MAPPA_NOTES },
        contact: { team: 'North MAPPA unit', phone: '01632 960002' },
      }),
    );
    await h.published(
      POLICE,
      'public_protection_officer',
      publishBody(adultSubject('2001/12345x'), 'risk_to_children', { details: { level: 'high' } }),
    );

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

    t.test('a household check: one answer per subject, in order, one ledger entry per subject', async (t) => {
      const before = await h.head();
      const unknown = childSubject(nhsNumber(3), { name: { given: 'Kit', family: 'Unknown' } });
      const r = await h.search(POLICE, 'public_protection_officer', {
        subjects: [{ type: 'adult', pncId: leePnc }, { type: 'child', nhsNumber: zoeNhs }, unknown],
        purpose: 'risk_to_children_check',
        caseReference: 'OP-HOUSE-7',
      });
      t.equal(r.status, 200, r.text);
      t.same(Object.keys(r.json).sort(), ['caseReference', 'results']);
      t.same(
        r.json.results.map((a: { match: string; results: Array<{ flag: string }> }) => [
          a.match,
          a.results.map((x) => x.flag),
        ]),
        [
          ['exact', ['mappa_managed', 'risk_to_children']],
          ['exact', ['child_protection_plan']],
          ['none', []],
        ],
      );
      const searched = (await h.entries(before)).filter((e) => e.action === 'flag.searched');
      t.same(
        searched.map((e) => [e.outcome, e.decision, e.case_reference, e.purpose]),
        [
          ['exact', 'permit', 'OP-HOUSE-7', 'risk_to_children_check'],
          ['exact', 'permit', 'OP-HOUSE-7', 'risk_to_children_check'],
          ['none', 'deny', 'OP-HOUSE-7', 'risk_to_children_check'],
        ],
      );
      t.match(searched[0], {
        actor_agency: POLICE,
        actor_role: 'public_protection_officer',
        rule_ids: ['flags-offender-police'],
        fields: { flags: ['flag', 'details.level', 'details.category', 'contact'] },
        counterparts: [PROBATION],
        categories: ['flags'],
      });
      t.match(searched[1], {
        rule_ids: ['flags-child-protection'],
        fields: { flags: ['flag', 'contact'] },
        counterparts: [CSC],
      });
      t.same(
        [searched[2]?.fields, searched[2]?.counterparts, searched[2]?.rule_ids],
        [null, null, []],
        'empty, still a record',
      );
      t.equal(new Set(searched.map((e) => e.subject_ref)).size, 3, 'each entry is keyed on its own subject');

      // The publisher's auditor sees the search of its flag; another agency's auditor does not.
      await gw.gateway.ledger.flush();
      const audit = async (agency: string) =>
        (
          await gw.call(agency, 'auditor', 'GET', '/v1/audit?action=flag.searched&limit=500')
        ).json.entries.filter((e: { seq: number }) => e.seq > before);
      t.equal((await audit(PROBATION)).length, 1);
      t.equal((await audit(CSC)).length, 1);
      t.equal((await audit(CSC2)).length, 0);
      t.equal((await audit(GP)).length, 0);
    });

    t.test('a search that finds a child’s flag tells its publisher, and no one else', async (t) => {
      const before = (await h.events('flag.accessed')).length;
      const r = await h.search(GP, 'safeguarding_lead', {
        subject: { type: 'child', nhsNumber: zoeNhs },
        purpose: 'safeguarding_concern',
      });
      t.equal(r.json.match, 'exact');
      const events = (await h.events('flag.accessed')).slice(before);
      t.same(
        events.map((e) => e.agency_id),
        [CSC],
      );
      t.same(Object.keys(events[0]?.data ?? {}).sort(), [
        'flagId',
        'flagType',
        'match',
        'purpose',
        'searchedAt',
        'searcherAgency',
        'searcherRole',
        'searcherSub',
      ]);
      t.match(events[0]?.data, {
        flagId: cpPlan,
        flagType: 'child_protection_plan',
        match: 'exact',
        searcherAgency: GP,
        searcherRole: 'safeguarding_lead',
        searcherSub: 'safeguarding_lead-1',
        purpose: 'safeguarding_concern',
      });
      // The publisher's DPO answers "who looked at this child's flag, and why" from the subject report.
      await gw.gateway.ledger.flush();
      const report = await gw.call(CSC, 'auditor', 'GET', `/v1/audit/subject-report?nhsNumber=${zoeNhs}`);
      t.equal(report.status, 200, report.text);
      const looks = report.json.entries.filter(
        (e: { action: string; actor: { agency: string } }) =>
          e.action === 'flag.searched' && e.actor.agency === GP,
      );
      t.match(looks.at(-1), {
        actor: { agency: GP, role: 'safeguarding_lead' },
        counterparts: [CSC],
        purpose: 'safeguarding_concern',
        decision: 'permit',
        outcome: 'exact',
        fields: { flags: ['flag', 'contact'] },
      });
      const inbox = (await h.inbox('flag.accessed')).filter((i) => i.ref === cpPlan);
      t.ok(
        inbox.length > 0 && inbox.every((i) => i.agency_id === CSC && i.kind === 'event'),
        'in CSC’s inbox only',
      );

      const inboxOf = async (agency: string) =>
        (await gw.call(agency, 'auditor', 'GET', '/v1/inbox?status=all&limit=200')).json.items.filter(
          (i: { type: string }) => i.type === 'flag.accessed',
        );
      const cscItems = await inboxOf(CSC);
      t.match(cscItems.at(-1), { kind: 'event', type: 'flag.accessed', ref: cpPlan });
      t.same(Object.keys(cscItems.at(-1)).sort(), ['id', 'kind', 'receivedAt', 'ref', 'type']);
      for (const other of [GP, POLICE, PROBATION, CSC2])
        t.same(await inboxOf(other), [], `none in ${other}'s inbox`);

      // The publisher's own search, and a search that finds only adults' flags, tell no one.
      const count = (await h.events('flag.accessed')).length;
      await h.search(CSC, 'mash_officer', {
        subject: { type: 'child', nhsNumber: zoeNhs },
        purpose: 's47_enquiry',
      });
      await h.search(POLICE, 'police_officer', {
        subject: { type: 'adult', pncId: leePnc },
        purpose: 'risk_to_children_check',
      });
      t.equal((await h.events('flag.accessed')).length, count);
      // A household in which the child appears twice is one event.
      await h.search(POLICE, 'police_officer', {
        subjects: [{ type: 'child', nhsNumber: zoeNhs }, zoe],
        purpose: 'risk_to_children_check',
      });
      const after = (await h.events('flag.accessed')).slice(count);
      t.same(
        after.map((e) => [e.agency_id, e.data.flagId, e.data.searcherAgency]),
        [[CSC, cpPlan, POLICE]],
      );
      t.same(
        [...new Set((await h.events('flag.accessed')).map((e) => e.agency_id))],
        [CSC],
        'no other agency ever got one',
      );
    });

    t.test(
      'ending: the publisher only; kept as history, gone from searches; re-publishing makes a new flag',
      async (t) => {
        const kit = childSubject(nhsNumber(4), { name: { given: 'Kit', family: 'Ended' } });
        const id = await h.published(CSC, 'social_worker', publishBody(kit, 'looked_after_child'));
        const notMine = await h.end(CSC2, 'social_worker', id);
        t.equal(notMine.status, 404);
        t.equal((await h.end(POLICE, 'police_officer', id)).status, 404);
        t.equal((await h.end(CSC, 'social_worker', '00000000-0000-4000-8000-000000000000')).status, 404);
        t.equal((await h.end(CSC, 'social_worker', 'not-a-uuid')).status, 404);
        t.same(notMine.json.code, 'not_found');

        const before = await h.head();
        const ended = await h.end(CSC, 'team_manager', id);
        t.equal(ended.status, 200, ended.text);
        t.match(ended.json, { id, status: 'ended', endedAt: /^\d{4}-\d{2}-\d{2}T/ });
        t.equal((await h.end(CSC, 'social_worker', id)).status, 409, 'already ended');
        const [row] = await gw.gateway.db.query<{ ended_at: string | null }>(
          'SELECT ended_at FROM flags WHERE id = $1',
          [id],
        );
        t.ok(row?.ended_at, 'kept, with the time it ended');
        const found = await h.search(POLICE, 'police_officer', {
          subject: kit,
          purpose: 'risk_to_children_check',
        });
        t.same(found.json, { match: 'none', results: [] });
        const [entry] = (await h.entries(before)).filter((e) => e.action === 'flag.ended');
        t.match(entry, { actor_agency: CSC, actor_role: 'team_manager', flag_id: id, decision: 'permit' });

        const again = await h.publish(CSC, 'social_worker', publishBody(kit, 'looked_after_child'));
        t.equal(again.status, 201);
        t.not(again.json.id, id);
        t.equal(
          (await h.search(POLICE, 'police_officer', { subject: kit, purpose: 'risk_to_children_check' })).json
            .match,
          'exact',
        );
      },
    );

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
        await gw.gateway.ledger.flush();
        const personal = [
          zoeNhs,
          nhsNumber(8),
          'Zoë',
          'Zoe',
          "O'Brien",
          'OBrien',
          'obriensmith',
          '2019-05-04',
          '0012345X',
          '12345X',
          'Marsh',
          'marshdoyle',
          '1984-11-23',
          'Amélie',
          'amelie',
          '2027-02-01',
        ];
        const stored = {
          ledger: await h.dump('ledger_entries'),
          queue: await h.dump('ledger_queue'),
          outbox: await h.dump('outbox'),
          inbox: await h.dump('inbox_items'),
          flags: await h.dump('flags'),
        };
        const { queue: _sequenced, ...filled } = stored;
        t.ok(
          Object.values(filled).every((s) => s.length > 0),
          'there is something to look at (the queue is empty once sequenced)',
        );
        for (const [table, text] of Object.entries(stored)) {
          for (const value of personal) t.notOk(text.includes(value), `${table} holds no "${value}"`);
        }
        for (const table of ['ledger', 'queue', 'outbox', 'inbox'] as const) {
          for (const value of [MAPPA_NOTES, 'North MAPPA unit', '01632 96000']) {
            t.notOk(stored[table].includes(value), `${table} holds no flag text "${value}"`);
          }
        }
      },
    );
  });
}
