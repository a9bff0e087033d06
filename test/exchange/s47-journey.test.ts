import t from 'tap';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';

/**
 * The social worker's journey of a s47 enquiry, over real HTTPS through the identity wall: one request
 * each to police, the GP practice and probation, each answered, filtered and read, all in the ledger.
 * Run on both backends.
 */
const CHILD = { type: 'child', nhsNumber: '943 476 5919', name: { given: 'Sam', family: 'Example' } };
const SIBLING = { type: 'child', nhsNumber: '4010232137' };
const ADULT = { type: 'adult', pncId: '2001/0012345x', name: { given: 'Alex', family: 'Example' } };

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`s47 journey (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const csc = AGENCIES.csc.id;
    const sw = (method: string, path: string, body?: unknown) =>
      gw.call(csc, 'social_worker', method, path, body);

    const ask = async (to: string, subject: unknown, categories: string[], extra: object = {}) => {
      const r = await sw('POST', '/v1/requests', {
        ...extra,
        to,
        subject,
        purpose: 's47_enquiry',
        categories,
        justification: 'Strategy discussion held today; s47 enquiry opened.',
        caseReference: 'CASE-0042',
      });
      return r;
    };

    // Police: incidents and convictions granted; intelligence refused by the explicit deny rule. The
    // child's sibling is named as a related child.
    const police = await ask(AGENCIES.police.id, CHILD, ['incidents', 'convictions', 'intelligence'], {
      relatedChildren: [SIBLING],
    });
    t.equal(police.status, 201, police.text);
    t.same(police.json.granted, ['incidents', 'convictions']);
    t.equal(police.json.refused.length, 1);
    t.match(police.json.refused[0], {
      category: 'intelligence',
      code: 'policy_denied',
      ruleId: 'deny-intelligence-outside-mappa',
    });
    t.equal(police.json.status, 'awaiting_response');
    t.same(police.json.consent, { status: 'not_required', basis: 'lawful basis without consent' });
    t.ok(police.json.lawfulBasis.includes('Children Act 1989 s47'));
    t.ok(Date.parse(police.json.respondBy) > Date.now(), 'respondBy in the future');
    t.equal(police.headers.location, `/v1/requests/${police.json.id}`);

    // GP: medications refused (deny rule), the rest granted.
    const gp = await ask(AGENCIES.gp.id, CHILD, ['registration', 'attendances', 'medications']);
    t.equal(gp.status, 201, gp.text);
    t.same(gp.json.granted, ['registration', 'attendances']);
    t.same(
      gp.json.refused.map((r: { category: string }) => r.category),
      ['medications'],
    );

    // Probation, about the adult in the household: MAPPA fields are filtered (nextReview is not shared).
    const probation = await ask(AGENCIES.probation.id, ADULT, ['mappa', 'risk_of_serious_harm']);
    t.equal(probation.status, 201, probation.text);
    t.same(probation.json.granted, ['mappa', 'risk_of_serious_harm']);

    // The holder sees the request; a third agency gets 404, as for an id that does not exist.
    const asHolder = await gw.call(
      AGENCIES.police.id,
      'police_officer',
      'GET',
      `/v1/requests/${police.json.id}`,
    );
    t.equal(asHolder.status, 200);
    t.equal(asHolder.json.from, csc);
    t.equal(asHolder.json.subject.nhsNumber, '9434765919', 'stored without spaces');
    const outsider = await gw.call(
      AGENCIES.csc2.id,
      'social_worker',
      'GET',
      `/v1/requests/${police.json.id}`,
    );
    t.equal(outsider.status, 404);
    t.equal(outsider.json.code, 'not_found');

    // Answers.
    const policeAnswer = await gw.call(
      AGENCIES.police.id,
      'police_officer',
      'POST',
      `/v1/requests/${police.json.id}/response`,
      {
        data: {
          incidents: {
            items: [
              {
                date: '2026-10-01',
                type: 'domestic',
                role: 'victim',
                summary: 'Call-out',
                reference: 'INC-1',
              },
            ],
          },
        },
        withheld: [{ category: 'convictions', reason: 'Awaiting a charging decision' }],
      },
    );
    t.equal(policeAnswer.status, 200, policeAnswer.text);
    t.equal(policeAnswer.json.status, 'responded');
    t.same(policeAnswer.json.released.incidents.sort(), [
      'items.date',
      'items.reference',
      'items.role',
      'items.summary',
      'items.type',
    ]);
    t.same(policeAnswer.json.withheldByPolicy, {});

    // Probation sends intelligence it was not asked for and nextReview the policy does not share.
    const probationAnswer = await gw.call(
      AGENCIES.probation.id,
      'probation_officer',
      'POST',
      `/v1/requests/${probation.json.id}/response`,
      {
        data: {
          mappa: { category: 1, level: 2, leadAgency: 'probation', nextReview: '2027-01-10' },
          risk_of_serious_harm: {
            level: 'high',
            riskTo: ['children'],
            summary: 'Risk to children in the home',
          },
          offence_summary: { index: 'Assault', summary: 'Details', sentence: '2 years' },
        },
      },
    );
    t.equal(probationAnswer.status, 200, probationAnswer.text);
    t.same(probationAnswer.json.released.mappa.sort(), ['category', 'leadAgency', 'level']);
    t.same(probationAnswer.json.withheldByPolicy.mappa, ['nextReview']);
    t.same(probationAnswer.json.withheldByPolicy.offence_summary.sort(), ['index', 'sentence', 'summary']);
    t.notOk(probationAnswer.json.released.offence_summary, 'a category not granted is dropped');

    // A second answer, or a decline after the answer: 409.
    const again = await gw.call(
      AGENCIES.probation.id,
      'probation_officer',
      'POST',
      `/v1/requests/${probation.json.id}/response`,
      { data: {} },
    );
    t.equal(again.status, 409);
    t.equal(again.json.code, 'conflict');
    const lateDecline = await gw.call(
      AGENCIES.probation.id,
      'probation_officer',
      'POST',
      `/v1/requests/${probation.json.id}/decline`,
      { reason: 'changed our mind' },
    );
    t.equal(lateDecline.status, 409);

    // The GP practice declines, with its reason.
    const decline = await gw.call(AGENCIES.gp.id, 'gp', 'POST', `/v1/requests/${gp.json.id}/decline`, {
      reason: 'Not registered with this practice',
    });
    t.equal(decline.status, 200, decline.text);
    t.equal(decline.json.status, 'declined');
    const respondAfterDecline = await gw.call(
      AGENCIES.gp.id,
      'gp',
      'POST',
      `/v1/requests/${gp.json.id}/response`,
      { data: {} },
    );
    t.equal(respondAfterDecline.status, 409);

    // The social worker reads the filtered answers.
    const read = await sw('GET', `/v1/requests/${probation.json.id}`);
    t.equal(read.status, 200);
    t.equal(read.json.status, 'responded');
    t.same(read.json.response.data.mappa, { category: 1, level: 2, leadAgency: 'probation' });
    t.notOk(read.json.response.data.offence_summary);
    t.notOk(read.json.response.withheldByPolicy, 'the requester does not see what was withheld');
    const policeRead = await sw('GET', `/v1/requests/${police.json.id}`);
    t.same(policeRead.json.response.withheld, [
      { category: 'convictions', reason: 'Awaiting a charging decision' },
    ]);
    t.same(Object.keys(policeRead.json.response.data), ['incidents']);
    const gpRead = await sw('GET', `/v1/requests/${gp.json.id}`);
    t.equal(gpRead.json.status, 'declined');
    t.notOk(gpRead.json.response);

    // The ledger: who asked, what was released, what was refused, who read it, and the decline's reason.
    const cp = await gw.gateway.ledger.flush();
    t.ok(cp.treeSize >= 8);
    const audit = await gw.call(csc, 'auditor', 'GET', '/v1/audit?limit=500');
    t.equal(audit.status, 200);
    const entries: Array<Record<string, unknown>> = audit.json.entries;
    const byAction = (action: string, requestId?: string) =>
      entries.filter((e) => e.action === action && (!requestId || e.requestId === requestId));
    t.equal(byAction('request.created').length, 3);
    t.equal(byAction('request.refused').length, 2, 'partial refusals are ledgered');
    const released = byAction('response.released', probation.json.id)[0];
    t.match(released, {
      actor: { agency: AGENCIES.probation.id, role: 'probation_officer' },
      counterpart: csc,
      caseReference: 'CASE-0042',
      purpose: 's47_enquiry',
      decision: 'permit',
      ruleIds: ['s47-probation'],
    });
    const releasedFields = (released?.fields ?? {}) as Record<string, string[]>;
    t.same([...(releasedFields.mappa ?? [])].sort(), ['category', 'leadAgency', 'level']);
    const viewed = byAction('disclosure.viewed', probation.json.id);
    t.equal(viewed.length, 1, 'one read, one entry');
    t.match(viewed[0], { actor: { agency: csc, role: 'social_worker' }, counterpart: AGENCIES.probation.id });
    t.equal(byAction('disclosure.viewed', gp.json.id).length, 0, 'nothing released, nothing viewed');
    t.match(byAction('response.withheld', police.json.id), [
      {
        actor: { agency: AGENCIES.police.id },
        decision: 'deny',
        categories: ['convictions'],
        commitments: { reason: /^[0-9a-f]{64}$/ },
      },
    ]);
    const siblingReport = await gw.call(
      csc,
      'auditor',
      'GET',
      `/v1/audit/subject-report?nhsNumber=${SIBLING.nhsNumber}`,
    );
    t.equal(siblingReport.status, 200);
    t.same(
      siblingReport.json.entries.map((e: { action: string }) => e.action),
      ['request.related_child'],
      'a related child is findable by its own identifiers',
    );
    const declined = byAction('request.declined', gp.json.id)[0];
    t.match(declined, { decision: 'deny', commitments: { reason: /^[0-9a-f]{64}$/ } });
    t.notOk('reason' in (declined ?? {}), 'no free text in the ledger');
    for (const text of ['Not registered with this practice', 'Awaiting a charging decision']) {
      t.notOk(JSON.stringify(entries).includes(text), `the ledger holds no "${text}"`);
    }
    t.notOk(JSON.stringify(entries).includes('9434765919'), 'no NHS number in the ledger');
    t.notOk(JSON.stringify(entries).includes('Example'), 'no name in the ledger');

    // Events: the holders were told of the requests; the requester of the answers and the decline.
    const events = await gw.gateway.db.query<{
      agency_id: string;
      type: string;
      data: Record<string, unknown>;
    }>('SELECT agency_id, type, data FROM outbox ORDER BY id');
    const types = events.map((e) => `${e.agency_id}:${e.type}`);
    t.ok(types.includes(`${AGENCIES.police.id}:request.received`));
    t.ok(types.includes(`${AGENCIES.gp.id}:request.received`));
    t.ok(types.includes(`${csc}:request.responded`));
    t.ok(types.includes(`${csc}:request.declined`));
    t.notOk(JSON.stringify(events).includes('9434765919'), 'events carry references only');

    const verify = await gw.call(csc, 'auditor', 'GET', '/v1/audit/verify');
    t.equal(verify.json.ok, true);
  });
}
