import { createHash, randomUUID } from 'node:crypto';
import t from 'tap';
import { respondBy as respondByRule } from '../../src/calendar/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  CSC2,
  child,
  GP,
  harness,
  nhsNumber,
  PAYLOADS,
  POLICE,
  PROBATION,
  problemShape,
  requestBody,
  UUID,
} from './requests-fixtures.js';

/**
 * Information requests (contract section 6) over real HTTPS, on both backends: the main journey of one
 * request (create, read by each party, answer, filtered read, ledger and events), and who may do what
 * (roles, agencies that are not party, the requester answering its own request).
 * Consent: requests-consent.test.ts. Policy outcomes and validation: requests-validation.test.ts.
 * Concurrency, overdue and failing closed: requests-state.test.ts. Custom bundles: requests-bundle.test.ts.
 */
const ADULT = { type: 'adult', pncId: '2001/0012345x', name: { given: 'Alex', family: 'Example' } };
const PERSONAL = ['2001/0012345X', '2001/0012345x', 'Alex', 'Example', 'Pat Officer', 'Assault on a partner'];

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`information requests (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const h = harness(gw);

    t.test('the main journey: ask, answer with more than the policy shares, read filtered', async (t) => {
      const before = new Date();
      const created = await h.ask(
        requestBody({
          to: PROBATION,
          subject: ADULT,
          relatedChildren: [child('999 000 0018')],
          categories: ['mappa', 'offence_summary', 'supervising_officer'],
          caseReference: 'CASE-0042',
        }),
      );
      const after = new Date();
      t.equal(created.status, 201, created.text);
      const id: string = created.json.id;
      t.match(id, UUID);
      t.equal(created.headers.location, `/v1/requests/${id}`);
      t.match(created.json, {
        status: 'awaiting_response',
        granted: ['mappa', 'offence_summary', 'supervising_officer'],
        refused: [],
        consent: { status: 'not_required', basis: 'lawful basis without consent' },
        caseReference: 'CASE-0042',
      });
      t.ok(created.json.lawfulBasis.includes('Children Act 1989 s47'));
      // s47-probation: respondWithin one working day, to the end of that day in London.
      const expected = [before, after].map((d) => respondByRule(d, { workingDays: 1 }).toISOString());
      t.ok(expected.includes(created.json.respondBy), `${created.json.respondBy} in ${expected}`);

      // The holder is told, with references only.
      const events = await h.outbox(id);
      t.same(
        events.map((e) => [e.agency_id, e.type]),
        [[PROBATION, 'request.received']],
      );
      t.match(events[0]?.data, {
        requestId: id,
        from: CSC,
        purpose: 's47_enquiry',
        categories: ['mappa', 'offence_summary', 'supervising_officer'],
        respondBy: created.json.respondBy,
      });

      // The holder reads the request: who asks, about whom, why; no response yet.
      const asHolder = await h.probation('GET', `/v1/requests/${id}`);
      t.equal(asHolder.status, 200, asHolder.text);
      t.match(asHolder.json, {
        id,
        status: 'awaiting_response',
        from: CSC,
        to: PROBATION,
        purpose: 's47_enquiry',
        subject: { type: 'adult', pncId: '2001/0012345X' },
        relatedChildren: [{ nhsNumber: '9990000018' }],
        granted: ['mappa', 'offence_summary', 'supervising_officer'],
        justification: 'Strategy discussion held today; s47 enquiry opened.',
        caseReference: 'CASE-0042',
        respondBy: created.json.respondBy,
      });
      t.notOk(asHolder.json.response);
      const asRequesterEarly = await h.sw('GET', `/v1/requests/${id}`);
      t.equal(asRequesterEarly.status, 200);
      t.notOk(asRequesterEarly.json.response);

      // The answer: nextReview and the sentence are more than s47-probation shares.
      const answer = await h.probation('POST', `/v1/requests/${id}/response`, {
        data: {
          mappa: PAYLOADS.mappa,
          offence_summary: PAYLOADS.offence_summary,
          supervising_officer: PAYLOADS.supervising_officer,
        },
      });
      t.equal(answer.status, 200, answer.text);
      t.equal(answer.json.status, 'responded');
      t.same(answer.json.released, {
        mappa: ['category', 'level', 'leadAgency'],
        offence_summary: ['index', 'summary'],
        supervising_officer: ['name', 'team', 'phone', 'email'],
      });
      t.same(answer.json.withheldByPolicy, { mappa: ['nextReview'], offence_summary: ['sentence'] });

      // The requester reads only what was released, and not what was kept back.
      const read = await h.sw('GET', `/v1/requests/${id}`);
      t.equal(read.status, 200, read.text);
      t.equal(read.json.status, 'responded');
      t.same(read.json.response.data, {
        mappa: { category: 1, level: 2, leadAgency: 'probation' },
        offence_summary: { index: 'Assault', summary: 'Assault on a partner' },
        supervising_officer: PAYLOADS.supervising_officer,
      });
      t.ok(Date.parse(read.json.response.respondedAt) >= before.getTime());
      t.notOk('released' in read.json.response, 'the requester does not see the field lists');
      t.notOk('withheldByPolicy' in read.json.response, 'nor what the policy kept back');
      t.notOk(read.text.includes('nextReview') || read.text.includes('2 years'));

      // The holder's own view adds both lists.
      const holderRead = await h.probation('GET', `/v1/requests/${id}`);
      t.equal(holderRead.status, 200);
      t.same(holderRead.json.response.released, answer.json.released);
      t.same(holderRead.json.response.withheldByPolicy, answer.json.withheldByPolicy);

      // A second requester read; the holder read once more.
      t.equal((await h.as(CSC, 'team_manager')('GET', `/v1/requests/${id}`)).status, 200);
      t.equal((await h.probation('GET', `/v1/requests/${id}`)).status, 200);

      // The ledger, as the requester's auditor sees it.
      const entries = (await h.audit(CSC, 'pncId=2001/0012345X')).filter((e) => e.requestId === id);
      const of = (action: string) => entries.filter((e) => e.action === action);
      t.same(entries.map((e) => e.action).sort(), [
        'disclosure.viewed',
        'disclosure.viewed',
        'request.created',
        'response.released',
      ]);
      t.match(of('request.created')[0], {
        actor: { agency: CSC, sub: 'social_worker-1', role: 'social_worker' },
        counterpart: PROBATION,
        caseReference: 'CASE-0042',
        purpose: 's47_enquiry',
        consent: 'not_required',
        decision: 'permit',
        ruleIds: ['s47-probation'],
        categories: ['mappa', 'offence_summary', 'supervising_officer'],
      });
      t.match(of('response.released')[0], {
        actor: { agency: PROBATION, role: 'probation_officer' },
        counterpart: CSC,
        caseReference: 'CASE-0042',
        decision: 'permit',
        ruleIds: ['s47-probation'],
        fields: answer.json.released,
      });
      const viewed = of('disclosure.viewed');
      t.same(viewed.map((e) => e.actor.role).sort(), ['social_worker', 'team_manager'], 'one per read');
      for (const v of viewed) {
        t.match(v, { actor: { agency: CSC }, counterpart: PROBATION, decision: 'permit' });
        t.same(v.fields, answer.json.released);
      }
      t.equal(
        (await h.audit(PROBATION, 'action=disclosure.viewed&pncId=2001/0012345X')).length,
        2,
        'the holder reading its own answer is not a disclosure; its auditor sees the requester reads',
      );
      const text = JSON.stringify(entries);
      for (const p of PERSONAL) t.notOk(text.includes(p), `no ${p} in the ledger`);

      const all = await h.outbox(id);
      t.same(
        all.map((e) => [e.agency_id, e.type]),
        [
          [PROBATION, 'request.received'],
          [CSC, 'request.responded'],
        ],
      );
      t.match(all[1]?.data, { requestId: id, to: PROBATION });
      for (const p of PERSONAL) t.notOk(JSON.stringify(all).includes(p), `no ${p} in events`);
    });

    t.test('a decline is a record too', async (t) => {
      const nhs = nhsNumber(2);
      const created = await h.ask(requestBody({ to: GP, subject: child(nhs), categories: ['registration'] }));
      t.equal(created.status, 201, created.text);
      t.notOk('caseReference' in created.json, 'no caseReference given, none echoed');
      const id = created.json.id;
      const declined = await h.gp('POST', `/v1/requests/${id}/decline`, { reason: 'Not registered here.' });
      t.equal(declined.status, 200, declined.text);
      t.same(declined.json, { id, status: 'declined' });
      const read = await h.sw('GET', `/v1/requests/${id}`);
      t.equal(read.json.status, 'declined');
      t.match(read.json.decline, { reason: 'Not registered here.' });
      t.notOk(read.json.response);
      const [entry] = await h.audit(GP, `action=request.declined&nhsNumber=${nhs}`);
      t.match(entry, {
        requestId: id,
        actor: { agency: GP, role: 'gp' },
        counterpart: CSC,
        decision: 'deny',
        categories: ['registration'],
        commitments: { reason: /^[0-9a-f]{64}$/ },
      });
      t.notOk(JSON.stringify(entry).includes('Not registered here.'), 'no free text in the ledger');

      // The decline's reason: the ledger commits to it, the record holds it, the parties' auditors read it.
      const texts = await gw.call(GP, 'auditor', 'GET', `/v1/audit/entries/${entry?.seq}/texts`);
      t.equal(texts.status, 200, texts.text);
      const [reason] = texts.json.texts;
      t.match(reason, { field: 'reason', held: true, text: 'Not registered here.', matches: true });
      t.equal(reason.commitment, entry?.commitments?.reason);
      t.equal(
        createHash('sha256')
          .update(Buffer.from(reason.salt, 'hex'))
          .update(reason.text, 'utf8')
          .digest('hex'),
        reason.commitment,
        'anyone can check the commitment: SHA-256(salt ‖ text)',
      );
      t.equal(
        (await gw.call(CSC, 'auditor', 'GET', `/v1/audit/entries/${entry?.seq}/texts`)).status,
        200,
        'the requester is a party too',
      );
      const stranger = await gw.call(POLICE, 'auditor', 'GET', `/v1/audit/entries/${entry?.seq}/texts`);
      t.equal(stranger.status, 404, 'no party, no entry');
      t.equal(
        (await gw.call(GP, 'gp', 'GET', `/v1/audit/entries/${entry?.seq}/texts`)).status,
        403,
        'auditors only',
      );
      const looks = await h.audit(GP, `action=audit.text_viewed&nhsNumber=${nhs}`);
      t.same(
        looks.map((e) => [e.actor.agency, e.actor.role, e.requestId, e.counterpart]),
        [
          [GP, 'auditor', id, undefined],
          [CSC, 'auditor', id, GP],
        ],
        'each auditor reading the text is on record, findable by the subject; the writer sees who read it',
      );
      t.equal((await h.audit(CSC, `action=disclosure.viewed&nhsNumber=${nhs}`)).length, 0);
      t.same(
        (await h.outbox(id)).map((e) => [e.agency_id, e.type]),
        [
          [GP, 'request.received'],
          [CSC, 'request.declined'],
        ],
      );
    });

    t.test('an answer that holds nothing reaches the requester as such', async (t) => {
      const nhs = nhsNumber(4);
      const police = await h.ask(
        requestBody({ subject: child(nhs), categories: ['incidents', 'domestic_abuse'] }),
      );
      t.equal(police.status, 201, police.text);
      const answer = await h.police('POST', `/v1/requests/${police.json.id}/response`, {
        data: { incidents: { items: [] }, domestic_abuse: PAYLOADS.domestic_abuse },
      });
      t.equal(answer.status, 200, answer.text);
      t.same(answer.json.released.incidents, [], 'released, with no field to show');
      t.same(answer.json.withheldByPolicy, {});
      const read = await h.sw('GET', `/v1/requests/${police.json.id}`);
      t.same(
        read.json.response.data,
        { incidents: { items: [] }, domestic_abuse: PAYLOADS.domestic_abuse },
        '"no incidents on record" is not the same as "not answered"',
      );
      const [released] = await h.audit(CSC, `action=response.released&nhsNumber=${nhs}`);
      t.same(released?.categories, ['incidents', 'domestic_abuse']);
      t.same(released?.fields?.incidents, []);

      // But a permitted category whose every field the policy keeps back is not shown as an empty answer.
      const probation = await h.ask(
        requestBody({ to: PROBATION, subject: child(nhs), categories: ['mappa', 'supervising_officer'] }),
      );
      t.equal(probation.status, 201, probation.text);
      const kept = await h.probation('POST', `/v1/requests/${probation.json.id}/response`, {
        data: { mappa: { nextReview: '2027-01-10' }, supervising_officer: PAYLOADS.supervising_officer },
      });
      t.equal(kept.status, 200, kept.text);
      t.same(kept.json.withheldByPolicy, { mappa: ['nextReview'] });
      t.notOk(kept.json.released.mappa);
      const keptRead = await h.sw('GET', `/v1/requests/${probation.json.id}`);
      t.same(Object.keys(keptRead.json.response.data), ['supervising_officer']);
      t.notOk(keptRead.text.includes('2027-01-10'));
    });

    t.test('roles and isolation', async (t) => {
      const nhs = nhsNumber(3);
      const created = await h.ask(requestBody({ subject: child(nhs), categories: ['incidents'] }));
      t.equal(created.status, 201, created.text);
      const id: string = created.json.id;
      const answerBody = { data: { incidents: PAYLOADS.incidents } };

      t.test('auditor and agency_admin may use none of the four routes', async (t) => {
        for (const role of ['auditor', 'agency_admin']) {
          const calls = [
            await gw.call(CSC, role, 'POST', '/v1/requests', requestBody({ subject: child(nhs) })),
            await gw.call(CSC, role, 'GET', `/v1/requests/${id}`),
            await gw.call(POLICE, role, 'GET', `/v1/requests/${id}`),
            await gw.call(POLICE, role, 'POST', `/v1/requests/${id}/response`, answerBody),
            await gw.call(POLICE, role, 'POST', `/v1/requests/${id}/decline`, { reason: 'No.' }),
          ];
          for (const r of calls) {
            t.equal(r.status, 403, `${role}: ${r.text}`);
            t.equal(r.json.code, 'forbidden');
            t.notOk(r.text.includes(nhs) || r.text.includes(id), 'nothing of the request leaks');
          }
        }
        t.equal(await h.requestsFor(nhs), 1, 'the auditor created nothing');
      });

      t.test('an agency that is not party gets 404, as for an id that does not exist', async (t) => {
        const outsiders = [h.as(CSC2, 'social_worker'), h.as(CSC2, 'team_manager'), h.gp];
        const reference = await h.as(CSC2, 'social_worker')('GET', `/v1/requests/${randomUUID()}`);
        t.equal(reference.status, 404);
        t.equal(reference.json.code, 'not_found');
        const shape = problemShape(reference);
        for (const call of outsiders) {
          for (const target of [id, randomUUID(), 'not-a-request-id']) {
            for (const r of [
              await call('GET', `/v1/requests/${target}`),
              await call('POST', `/v1/requests/${target}/response`, answerBody),
              await call('POST', `/v1/requests/${target}/decline`, { reason: 'Not ours.' }),
            ]) {
              t.same(problemShape(r), shape, `${target}: ${r.text}`);
              t.notOk(r.text.includes(id), 'the id is not echoed');
            }
          }
        }
        const still = await h.police('GET', `/v1/requests/${id}`);
        t.equal(still.json.status, 'awaiting_response', 'the outsiders changed nothing');
      });

      t.test('the requester may not answer or decline its own request', async (t) => {
        for (const r of [
          await h.sw('POST', `/v1/requests/${id}/response`, answerBody),
          await h.sw('POST', `/v1/requests/${id}/decline`, { reason: 'Changed our mind.' }),
        ]) {
          t.equal(r.status, 403, r.text);
          t.equal(r.json.code, 'forbidden');
        }
        const still = await h.police('GET', `/v1/requests/${id}`);
        t.equal(still.json.status, 'awaiting_response');
        t.equal(await h.countRows(`outbox WHERE data->>'requestId' = $1`, [id]), 1, 'only request.received');
      });

      t.test('after the answer: only the requester’s reads of released data are ledgered', async (t) => {
        const answer = await h.police('POST', `/v1/requests/${id}/response`, answerBody);
        t.equal(answer.status, 200, answer.text);
        const viewed = async () =>
          (await h.audit(CSC, `action=disclosure.viewed&nhsNumber=${nhs}`)).filter((e) => e.requestId === id)
            .length;
        for (let i = 0; i < 2; i++) {
          const r = await h.police('GET', `/v1/requests/${id}`);
          t.equal(r.status, 200);
          t.ok(r.json.response.released, 'the holder sees what it released');
          t.same(r.json.response.withheldByPolicy, {});
        }
        t.equal(await viewed(), 0, 'holder reads are not disclosures');
        const first = await h.sw('GET', `/v1/requests/${id}`);
        t.same(first.json.response.data, { incidents: PAYLOADS.incidents });
        t.notOk('released' in first.json.response);
        t.equal(await viewed(), 1);
        await h.sw('GET', `/v1/requests/${id}`);
        t.equal(await viewed(), 2, 'two reads, two entries');
        // Still invisible to the outsiders once answered.
        const outsider = await h.as(CSC2, 'social_worker')('GET', `/v1/requests/${id}`);
        t.equal(outsider.status, 404);
        t.notOk(outsider.text.includes('Call-out'));
      });
    });
  });
}
