import t from 'tap';
import { serializeError } from '../../src/http/logging.js';
import { startTestGateway } from '../helpers/gateway.js';
import { CSC, child, GP, nhsNumber, POLICE, PROBATION, REGISTRATION } from './fixtures.js';

/**
 * Security review findings (see the review report): each subtest asserts the behaviour the contract and
 * DOMAIN.md ask for; each failed before its fix.
 */
t.test('security findings (postgres)', async (t) => {
  const gw = await startTestGateway(t, { backend: 'postgres' });
  const { db } = gw.gateway;

  t.test('F1: a role the policy refuses for the purpose must not read a released answer', async (t) => {
    // cp-conference-health names social_worker and team_manager only; a mash_officer asking is refused.
    const nhs = nhsNumber(1);
    const body = {
      to: GP,
      subject: child(nhs),
      purpose: 'child_protection_conference',
      categories: ['registration'],
      justification: 'Initial child protection conference next week.',
    };
    const refused = await gw.call(CSC, 'mash_officer', 'POST', '/v1/requests', body);
    t.equal(refused.status, 403, 'the mash_officer may not ask for this');
    const created = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', body);
    t.equal(created.status, 201, created.text);
    const answered = await gw.call(GP, 'gp', 'POST', `/v1/requests/${created.json.id}/response`, {
      data: { registration: REGISTRATION },
    });
    t.equal(answered.status, 200, answered.text);

    const read = await gw.call(CSC, 'mash_officer', 'GET', `/v1/requests/${created.json.id}`);
    t.equal(read.status, 200, "the request itself is the agency's");
    t.same(
      read.json.response.data,
      {},
      'the mash_officer does not get the GP data the policy refused that role',
    );
    t.notOk(read.text.includes(REGISTRATION.usualGp), 'no released field reaches that role');
    await gw.gateway.ledger.flush();
    const refusedRead = await db.query<{ decision: string; actor_role: string }>(
      "SELECT decision, actor_role FROM ledger_entries WHERE action = 'disclosure.refused' AND request_id = $1",
      [created.json.id],
    );
    t.same(refusedRead, [{ decision: 'deny', actor_role: 'mash_officer' }], 'the refused read is a record');
    const swRead = await gw.call(CSC, 'social_worker', 'GET', `/v1/requests/${created.json.id}`);
    t.ok(swRead.text.includes(REGISTRATION.usualGp), 'the role the policy names still reads it');
  });

  t.test(
    'F2: an agency neither recording nor named by a consent must not read its evidence and parent name',
    async (t) => {
      const nhs = nhsNumber(2);
      const evidence = 'Mother disclosed low mood at the appointment; consented verbally.';
      const rec = await gw.call(GP, 'gp', 'POST', '/v1/consents', {
        subject: child(nhs),
        givenBy: { relationship: 'parent', name: 'Jo Quillfeather' },
        status: 'given',
        purposes: ['s17_assessment'],
        agencies: [GP],
        validFrom: new Date(Date.now() - 86_400_000).toISOString(),
        evidence,
      });
      t.equal(rec.status, 201, rec.text);
      const read = await gw.call(POLICE, 'police_officer', 'GET', `/v1/consents?nhsNumber=${nhs}`);
      t.notOk(read.text.includes(evidence), 'police do not see the GP record evidence');
      t.notOk(read.text.includes('Jo Quillfeather'), 'nor who gave it');
    },
  );

  t.test('F3: an agency neither recording nor named by a consent must not withdraw it', async (t) => {
    const nhs = nhsNumber(3);
    const rec = await gw.call(GP, 'gp', 'POST', '/v1/consents', {
      subject: { type: 'child', nhsNumber: nhs },
      givenBy: { relationship: 'parent', name: 'Jo Example' },
      status: 'given',
      purposes: ['s17_assessment'],
      agencies: [GP],
      validFrom: new Date(Date.now() - 86_400_000).toISOString(),
      evidence: 'Signed form.',
    });
    t.equal(rec.status, 201, rec.text);
    const w = await gw.call(PROBATION, 'probation_officer', 'POST', `/v1/consents/${rec.json.id}/withdraw`, {
      reason: 'Not ours to withdraw.',
    });
    t.equal(w.status, 404, 'probation, not a party to the consent, cannot withdraw it');
  });

  t.test(
    'F4: free-text reasons (decline, withheld) do not enter the immutable ledger in plaintext',
    async (t) => {
      const declineReason = 'Suspect Barnaby Quillfeather under covert investigation';
      const withheldReason = 'Mother attended ED after an overdose on 2026-10-01';
      const a = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', {
        to: POLICE,
        subject: child(nhsNumber(4)),
        purpose: 's47_enquiry',
        categories: ['incidents'],
        justification: 's47 enquiry opened.',
      });
      t.equal(a.status, 201, a.text);
      t.equal(
        (
          await gw.call(POLICE, 'police_officer', 'POST', `/v1/requests/${a.json.id}/decline`, {
            reason: declineReason,
          })
        ).status,
        200,
      );
      const b = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', {
        to: GP,
        subject: child(nhsNumber(5)),
        purpose: 's47_enquiry',
        categories: ['registration', 'attendances'],
        justification: 's47 enquiry opened.',
      });
      t.equal(b.status, 201, b.text);
      const r = await gw.call(GP, 'gp', 'POST', `/v1/requests/${b.json.id}/response`, {
        data: { registration: REGISTRATION },
        withheld: [{ category: 'attendances', reason: withheldReason }],
      });
      t.equal(r.status, 200, r.text);
      await gw.gateway.ledger.flush();
      const rows = await db.query<{ t: string }>('SELECT row_to_json(e)::text AS t FROM ledger_entries e');
      const all = rows.map((x) => x.t).join('\n');
      // Contract section 11: no free text in the ledger, only a salted commitment; the words stay in the
      // request record. Nor in the queue the entries wait in.
      const queued = await db.query<{ t: string }>('SELECT body::text AS t FROM ledger_queue');
      const everything = `${all}\n${queued.map((x) => x.t).join('\n')}`;
      t.notOk(everything.includes('Barnaby'), 'the decline reason is not in the ledger');
      t.notOk(everything.includes('overdose'), "nor is the holder's reason for withholding");
      t.ok(all.includes('"commitments"'), 'a commitment stands in for each');
      const events = await db.query<{ t: string }>('SELECT data::text AS t FROM outbox');
      const allEvents = events.map((x) => x.t).join('\n');
      t.notOk(allEvents.includes('Barnaby') || allEvents.includes('overdose'), 'no reason in any event');
    },
  );

  t.test(
    'F5: an answer in `flags` cannot release a flag type the matching rule does not cover',
    async (t) => {
      // flags-offender-police covers, for a probation holder, mappa_managed and risk_to_children only.
      const c = await gw.call(POLICE, 'police_officer', 'POST', '/v1/requests', {
        to: PROBATION,
        subject: { type: 'adult', pncId: '2001/0012345X' },
        purpose: 'risk_to_children_check',
        categories: ['flags'],
        justification: 'Adult living with a child.',
      });
      t.equal(c.status, 201, c.text);
      const r = await gw.call(PROBATION, 'probation_officer', 'POST', `/v1/requests/${c.json.id}/response`, {
        data: { flags: { flag: 'registered_sex_offender', contact: { team: 'PPU' }, details: { level: 2 } } },
      });
      t.equal(r.status, 200, r.text);
      const read = await gw.call(POLICE, 'police_officer', 'GET', `/v1/requests/${c.json.id}`);
      t.notOk(read.text.includes('registered_sex_offender'), 'a flag type no rule shares is not released');
    },
  );

  t.test('F6: malformed but well-formed input is a 400, never a 500', async (t) => {
    const c = await gw.call(POLICE, 'police_officer', 'POST', '/v1/requests', {
      to: PROBATION,
      subject: { type: 'adult', pncId: '2001/0012346X' },
      purpose: 'risk_to_children_check',
      categories: ['flags'],
      justification: 'Adult living with a child.',
    });
    t.equal(c.status, 201, c.text);
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const r = await gw.request(`/v1/requests/${c.json.id}/response`, gw.credentials(PROBATION), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gw.token(PROBATION, 'probation_officer')}`,
        'content-type': 'application/json',
      },
      rawBody: `{"data":{"flags":{"flag":"mappa_managed","contact":{"team":"T"},"details":{"level":${deep}}}}}`,
    });
    t.equal(r.status, 400, `deep nesting: ${r.status}`);
    const a = await gw.call(CSC, 'auditor', 'GET', '/v1/audit?from=0000-01-01T00:00:00Z');
    t.equal(a.status, 400, `year 0000: ${a.status}`);
  });

  t.test('F7: an error whose message spans lines does not put its later lines in the log', async (t) => {
    const err = new Error('insert failed\nKey (nhs_number)=(9434765919) already exists');
    t.notMatch(JSON.stringify(serializeError(err)), '9434765919', 'no later line of the message');
  });
});
