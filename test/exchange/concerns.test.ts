import { createHash } from 'node:crypto';
import t from 'tap';
import { acknowledgeBy } from '../../src/calendar/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  CSC2,
  concernBody,
  concernHarness,
  decisionBody,
  GP,
  nhsNumber,
  POLICE,
  PROBATION,
  UUID,
} from './concerns-fixtures.js';

/**
 * The GP's journey (contract section 5) over real HTTPS through the identity wall, on both backends: a
 * concern with its household raised with children's social care, read by both parties and by no one
 * else, decided once with feedback to the GP, all ledgered with commitments in place of free text, and
 * no personal data in any ledger entry, event or inbox item.
 */

// Distinctive values, searched for afterwards in everything the gateway stores outside the record.
const CHILD = {
  type: 'child',
  nhsNumber: nhsNumber(1).replace(/^(\d{3})(\d{3})(\d{4})$/, '$1 $2 $3'),
  name: { given: 'Zephyrine', family: 'Quillfeather' },
  dateOfBirth: '2017-03-14',
  postcode: 'ZZ9 4QX',
};
const PARTNER = {
  type: 'adult',
  pncId: '03/0098765Q',
  name: { given: 'Barnaby', family: 'Thistlewood' },
  dateOfBirth: '1988-11-23',
};
const SIBLING = {
  type: 'child',
  name: { given: 'Perpetua', family: 'Quillfeather' },
  dateOfBirth: '2021-07-08',
};
const SUMMARY = 'Zephyrine disclosed that Barnaby Thistlewood hit her with a belt at 12 Lantern Row.';
const CONSENT_REASON = 'Ophelia Quillfeather may leave with the children if asked.';
const FEEDBACK =
  'Home visit today; Ophelia Quillfeather agreed to a safety plan. Strategy discussion tomorrow.';
const NOTE = 'DS Marigold Fenwick to attend the strategy discussion.';
const PHONE = '01632 960123';
const EMAIL = 'dr.wrenfield@riverside.example';
const PERSONAL = [
  nhsNumber(1),
  CHILD.nhsNumber,
  'Zephyrine',
  'Quillfeather',
  'Barnaby',
  'Thistlewood',
  'Perpetua',
  'Ophelia',
  'Marigold',
  'Fenwick',
  '0098765Q',
  '2017-03-14',
  '1988-11-23',
  '2021-07-08',
  'ZZ9 4QX',
  'Lantern Row',
  SUMMARY,
  CONSENT_REASON,
  FEEDBACK,
  NOTE,
  PHONE,
  EMAIL,
  'wrenfield',
];

interface TextItem {
  field: string;
  commitment: string;
  held: boolean;
  text?: string;
  salt?: string;
  matches?: boolean;
}

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`GP concern journey (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const h = concernHarness(gw);
    const { db } = gw.gateway;

    const submitted = await h.gp(
      'POST',
      '/v1/concerns',
      concernBody({
        child: CHILD,
        categories: ['physical_abuse', 'domestic_abuse'],
        summary: SUMMARY,
        urgency: 'standard',
        consent: { status: 'not_sought', reason: CONSENT_REASON },
        householdMembers: [PARTNER, SIBLING],
        referrerContact: { phone: PHONE, email: EMAIL },
        caseReference: 'GP-REF-77',
      }),
    );
    t.equal(submitted.status, 201, submitted.text);
    const id: string = submitted.json.id;
    t.match(id, UUID);
    t.same(Object.keys(submitted.json).sort(), [
      'acknowledgeBy',
      'caseReference',
      'id',
      'status',
      'submittedAt',
    ]);
    t.equal(submitted.json.status, 'submitted');
    t.equal(submitted.json.caseReference, 'GP-REF-77', 'the referrer’s own reference is echoed');
    t.equal(submitted.headers.location, `/v1/concerns/${id}`);
    t.equal(
      submitted.json.acknowledgeBy,
      acknowledgeBy(new Date(submitted.json.submittedAt), 'standard').toISOString(),
      'the end of the first working day after receipt',
    );

    await t.test(
      'concern.received goes to the CSC only, as a concern in its inbox due by acknowledgeBy',
      async (t) => {
        const events = await h.events(id);
        t.same(
          events.map((e) => [e.agency_id, e.type]),
          [[CSC, 'concern.received']],
        );
        t.same(events[0]?.data, {
          concernId: id,
          from: GP,
          to: CSC,
          urgency: 'standard',
          submittedAt: submitted.json.submittedAt,
          acknowledgeBy: submitted.json.acknowledgeBy,
        });
        const inbox = await h.inbox(id);
        t.same(
          inbox.map((i) => [i.agency_id, i.kind, i.type, i.due_by]),
          [[CSC, 'concern', 'concern.received', submitted.json.acknowledgeBy]],
        );
      },
    );

    await t.test('both parties read it; the note is not there before a decision', async (t) => {
      for (const [who, read] of [
        ['CSC', h.sw],
        ['GP', h.gp],
      ] as const) {
        const r = await read('GET', `/v1/concerns/${id}`);
        t.equal(r.status, 200, `${who}: ${r.text}`);
        t.match(r.json, {
          id,
          status: 'submitted',
          from: GP,
          to: CSC,
          referrer: { sub: 'gp-1', role: 'gp', name: 'Test gp' },
          categories: ['physical_abuse', 'domestic_abuse'],
          summary: SUMMARY,
          urgency: 'standard',
          consent: { status: 'not_sought', reason: CONSENT_REASON },
          referrerContact: { phone: PHONE, email: EMAIL },
          caseReference: 'GP-REF-77',
          submittedAt: submitted.json.submittedAt,
          acknowledgeBy: submitted.json.acknowledgeBy,
        });
        t.same(r.json.child, { ...CHILD, nhsNumber: nhsNumber(1) }, 'the NHS number stored without spaces');
        t.same(r.json.householdMembers, [{ ...PARTNER, pncId: '03/0098765Q' }, SIBLING]);
        t.notOk('decision' in r.json, 'no decision yet');
      }
    });

    await t.test('any agency not party to it gets the 404 an unknown id gets', async (t) => {
      const unknown = await h.sw('GET', '/v1/concerns/00000000-0000-4000-8000-000000000000');
      t.equal(unknown.status, 404);
      for (const [agency, role] of [
        [CSC2, 'social_worker'],
        [POLICE, 'police_officer'],
        [PROBATION, 'probation_officer'],
      ] as const) {
        const read = await h.as(agency, role)('GET', `/v1/concerns/${id}`);
        t.equal(read.status, 404, `${agency} read`);
        t.equal(read.json.code, 'not_found');
        t.equal(read.json.detail, unknown.json.detail, 'the same answer as for an unknown id');
        t.notOk(read.text.includes('Quillfeather'));
        const decide = await h.as(agency, role)('POST', `/v1/concerns/${id}/decision`, decisionBody());
        t.equal(decide.status, 404, `${agency} decide`);
        t.equal(decide.json.code, 'not_found');
      }
      t.equal((await h.sw('GET', '/v1/concerns/not-a-uuid')).status, 404, 'a malformed id names nothing');
    });

    await t.test('the referrer may not decide its own concern', async (t) => {
      const r = await h.gp('POST', `/v1/concerns/${id}/decision`, decisionBody());
      t.equal(r.status, 403, r.text);
      t.equal(r.json.code, 'forbidden');
    });

    const decided = await h.as(CSC, 'mash_officer')(
      'POST',
      `/v1/concerns/${id}/decision`,
      decisionBody({ outcome: 'strategy_discussion', feedbackToReferrer: FEEDBACK, note: NOTE }),
    );
    t.equal(decided.status, 200, decided.text);
    t.match(decided.json, {
      id,
      status: 'decided',
      outcome: 'strategy_discussion',
      acknowledgeBy: submitted.json.acknowledgeBy,
      decidedLate: false,
    });
    t.ok(Date.parse(decided.json.decidedAt) >= Date.parse(submitted.json.submittedAt));

    await t.test('a second decision is a conflict and changes nothing', async (t) => {
      const again = await h.sw(
        'POST',
        `/v1/concerns/${id}/decision`,
        decisionBody({ outcome: 'no_further_action', feedbackToReferrer: 'Closed.' }),
      );
      t.equal(again.status, 409, again.text);
      t.equal(again.json.code, 'conflict');
      t.notOk(again.text.includes('Ophelia'), 'the first feedback is not echoed');
      const read = await h.sw('GET', `/v1/concerns/${id}`);
      t.equal(read.json.decision.outcome, 'strategy_discussion');
    });

    await t.test('the GP is told, and reads the feedback; only the CSC reads its note', async (t) => {
      const events = await h.events(id);
      t.same(
        events.map((e) => [e.agency_id, e.type]),
        [
          [CSC, 'concern.received'],
          [GP, 'concern.decided'],
        ],
      );
      t.same(events[1]?.data, {
        concernId: id,
        from: GP,
        to: CSC,
        outcome: 'strategy_discussion',
        decidedAt: decided.json.decidedAt,
        decidedLate: false,
      });
      const inbox = await h.inbox(id);
      t.same(
        inbox.map((i) => [i.agency_id, i.kind, i.type]),
        [
          [CSC, 'concern', 'concern.received'],
          [GP, 'event', 'concern.decided'],
        ],
      );

      const asGp = await h.gp('GET', `/v1/concerns/${id}`);
      t.equal(asGp.json.status, 'decided');
      t.same(asGp.json.decision, {
        outcome: 'strategy_discussion',
        feedbackToReferrer: FEEDBACK,
        decidedAt: decided.json.decidedAt,
        decidedBy: { sub: 'mash_officer-1', role: 'mash_officer', name: 'Test mash_officer' },
        decidedLate: false,
      });
      t.notOk(asGp.text.includes(NOTE), 'the referrer never sees the CSC’s note');
      const asCsc = await h.sw('GET', `/v1/concerns/${id}`);
      t.equal(asCsc.json.decision.note, NOTE);
    });

    await t.test('each agency’s inbox over HTTPS holds its own items only', async (t) => {
      const inboxOf = async (agency: string, role: string) => {
        const r = await h.as(agency, role)('GET', '/v1/inbox?status=all&limit=200');
        t.equal(r.status, 200, r.text);
        return (r.json.items as Array<{ kind: string; ref: string; type: string; dueBy?: string }>)
          .filter((i) => i.ref === id)
          .map((i) => [i.kind, i.type, i.dueBy ?? null]);
      };
      t.same(await inboxOf(CSC, 'mash_officer'), [
        ['concern', 'concern.received', submitted.json.acknowledgeBy],
      ]);
      t.same(await inboxOf(GP, 'gp'), [['event', 'concern.decided', null]]);
      t.same(await inboxOf(CSC2, 'social_worker'), []);
      t.same(await inboxOf(POLICE, 'police_officer'), []);
    });

    await t.test('the ledger: codes and commitments, findable by each person', async (t) => {
      const gpEntries = await h.entries(GP, id, `&nhsNumber=${nhsNumber(1)}`);
      const submittedEntry = gpEntries.find((e) => e.action === 'concern.submitted');
      t.match(submittedEntry, {
        actor: { agency: GP, sub: 'gp-1', role: 'gp' },
        counterpart: CSC,
        concernId: id,
        caseReference: 'GP-REF-77',
        purpose: 'safeguarding_concern',
        consent: 'not_sought',
        decision: 'permit',
        ruleIds: [],
        categories: ['physical_abuse', 'domestic_abuse'],
      });
      t.same(Object.keys(submittedEntry?.commitments ?? {}).sort(), ['consentReason', 'summary']);
      const decidedEntry = gpEntries.find((e) => e.action === 'concern.decided');
      t.match(decidedEntry, {
        actor: { agency: CSC, sub: 'mash_officer-1', role: 'mash_officer' },
        counterpart: GP,
        concernId: id,
        outcome: 'strategy_discussion',
        decision: 'permit',
      });
      t.same(Object.keys(decidedEntry?.commitments ?? {}).sort(), ['feedbackToReferrer', 'note']);

      // Every read that showed the concern is an entry: 2 before the decision, 1 after the 409, 2 after.
      const viewed = gpEntries.filter((e) => e.action === 'concern.viewed');
      t.same(
        viewed.map((e) => [e.actor.agency, e.counterpart]),
        [
          [CSC, GP],
          [GP, CSC],
          [CSC, GP],
          [GP, CSC],
          [CSC, GP],
        ],
      );

      // The record keeps each text with its salt: an auditor of a party reads it and checks it against the
      // entry's commitment (SHA-256(salt ‖ text), recomputed here), and that look is ledgered too.
      const texts = async (agency: string, seq: number | undefined) => {
        const r = await gw.call(agency, 'auditor', 'GET', `/v1/audit/entries/${seq}/texts`);
        t.equal(r.status, 200, r.text);
        const out: Record<string, { held: boolean; text?: string; matches?: boolean }> = {};
        for (const x of r.json.texts as TextItem[]) {
          out[x.field] = {
            held: x.held,
            ...(x.text !== undefined ? { text: x.text, matches: x.matches } : {}),
          };
          if (x.text === undefined || x.salt === undefined) continue;
          const recomputed = createHash('sha256')
            .update(Buffer.from(x.salt, 'hex'))
            .update(x.text)
            .digest('hex');
          t.equal(recomputed, x.commitment, `${x.field}: the text is the one committed`);
        }
        return out;
      };
      const summaryTexts = {
        summary: { held: true, text: SUMMARY, matches: true },
        consentReason: { held: true, text: CONSENT_REASON, matches: true },
      };
      t.same(await texts(GP, submittedEntry?.seq), summaryTexts, 'the referrer’s auditor');
      t.same(await texts(CSC, submittedEntry?.seq), summaryTexts, 'the CSC’s auditor');
      t.same(
        await texts(CSC, decidedEntry?.seq),
        {
          feedbackToReferrer: { held: true, text: FEEDBACK, matches: true },
          note: { held: true, text: NOTE, matches: true },
        },
        'the CSC’s auditor reads its own note',
      );
      t.same(
        await texts(GP, decidedEntry?.seq),
        { feedbackToReferrer: { held: true, text: FEEDBACK, matches: true }, note: { held: false } },
        'the referrer’s auditor reads the feedback, never the note',
      );
      const outsider = await gw.call(
        CSC2,
        'auditor',
        'GET',
        `/v1/audit/entries/${submittedEntry?.seq}/texts`,
      );
      t.equal(outsider.status, 404, 'another CSC’s auditor reads nothing');
      const looked = await h.entries(CSC, id, '&action=audit.text_viewed');
      t.equal(looked.filter((e) => e.actor.agency === CSC).length, 2, 'each look at the texts is ledgered');

      // A subject report on the partner, by PNC id, finds the concern.
      const report = await gw.call(CSC, 'auditor', 'GET', '/v1/audit/subject-report?pncId=03/0098765Q');
      t.equal(report.status, 200, report.text);
      const actions = report.json.entries
        .filter((e: { concernId?: string }) => e.concernId === id)
        .map((e: { action: string }) => e.action);
      t.ok(actions.includes('concern.household_member'), 'the submission names the partner');
      t.ok(actions.includes('concern.household_member_viewed'), 'so does each read');

      // Another CSC's auditor sees nothing of it.
      t.same(await h.entries(CSC2, id, `&nhsNumber=${nhsNumber(1)}`), []);
    });

    await t.test('no personal data in ledger entries, the queue, events or inbox items', async (t) => {
      await gw.gateway.ledger.flush();
      const tables = {
        ledger_entries: await db.query('SELECT * FROM ledger_entries'),
        ledger_queue: await db.query('SELECT * FROM ledger_queue'),
        outbox: await db.query('SELECT * FROM outbox'),
        inbox_items: await db.query('SELECT * FROM inbox_items'),
      };
      t.ok(tables.ledger_entries.length >= 10, 'the entries are there to search');
      for (const [table, rows] of Object.entries(tables)) {
        const text = JSON.stringify(rows).toLowerCase();
        for (const value of PERSONAL) t.notOk(text.includes(value.toLowerCase()), `${table}: no "${value}"`);
      }
      const stored = JSON.stringify(await db.query('SELECT * FROM concerns WHERE id = $1', [id]));
      t.ok(stored.includes(SUMMARY) && stored.includes(FEEDBACK), 'the texts live in the record');
    });
  });
}
