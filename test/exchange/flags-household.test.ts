import t from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import {
  assertNoPersonalData,
  CSC,
  CSC2,
  childSubject,
  GP,
  harness,
  nhsNumber,
  POLICE,
  PROBATION,
  publishBody,
  seedFlags,
} from './flags-fixtures.js';

/**
 * Flags over real HTTPS, on both backends, after the search itself (flags.test.ts): the household check
 * answered and ledgered per subject, flag.accessed to the publisher of a child's flag and to no one
 * else (outbox, inbox items, GET /v1/inbox, the publisher's subject report), ending a flag (the
 * publisher only; kept as history; gone from searches), and no personal data outside the flag record.
 */
for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`flags: household, flag.accessed, ending (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const h = harness(gw);
    const { zoeNhs, zoe, leePnc, cpPlan } = await seedFlags(h);

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
      // A household in which the child appears twice (by NHS number, then by name) is one event, with
      // the better match.
      await h.search(POLICE, 'police_officer', {
        subjects: [
          { type: 'child', nhsNumber: zoeNhs },
          { type: 'child', name: zoe.name, dateOfBirth: zoe.dateOfBirth },
        ],
        purpose: 'risk_to_children_check',
      });
      const after = (await h.events('flag.accessed')).slice(count);
      t.same(
        after.map((e) => [e.agency_id, e.data.flagId, e.data.searcherAgency, e.data.match]),
        [[CSC, cpPlan, POLICE, 'exact']],
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

    t.test(
      'no personal data in the ledger, its queue, the outbox, the inbox or the flag index',
      async (t) => {
        await assertNoPersonalData(t, gw, [zoeNhs, nhsNumber(3), nhsNumber(4), 'Kit']);
      },
    );
  });
}
