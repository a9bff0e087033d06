import pg from 'pg';
import t from 'tap';
import { SEQUENCER_LOCK_KEY } from '../../src/ledger/sequencer.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CSC, POLICE, validNhsNumberFrom } from '../helpers/ids.js';

/**
 * Audit reads (search, subject report, verify) include everything committed before the read began:
 * they wait, bounded, for the sequencer to chain it, and say what they include (`asOf`, the highest
 * seq) and what they could not (`pending`, entries committed before the read but not yet chained).
 * The gateways' own background sequencers are stopped here, so that a read that does not wait finds
 * its entries missing every time, not only when it is quick.
 */
const INCIDENTS = {
  items: [{ date: '2026-10-01', type: 'domestic', role: 'victim', summary: 'Call-out', reference: 'INC-1' }],
};

/** The README's journey: the social worker asks the police, the police answer, the social worker reads. */
async function journey(gw: TestGateway, nhs: string): Promise<string> {
  const created = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', {
    to: POLICE,
    subject: { type: 'child', nhsNumber: nhs },
    purpose: 's47_enquiry',
    categories: ['incidents', 'intelligence'],
    justification: 's47 enquiry opened',
  });
  if (created.status !== 201) throw new Error(`request not created: ${created.text}`);
  const id: string = created.json.id;
  const answered = await gw.call(POLICE, 'police_officer', 'POST', `/v1/requests/${id}/response`, {
    data: { incidents: INCIDENTS },
  });
  if (answered.status !== 200) throw new Error(`not answered: ${answered.text}`);
  const read = await gw.call(CSC, 'social_worker', 'GET', `/v1/requests/${id}`);
  if (read.status !== 200) throw new Error(`not read: ${read.text}`);
  return id;
}

const queued = async (gw: TestGateway) =>
  (await gw.gateway.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_queue'))[0]?.n ?? -1;
const head = async (gw: TestGateway) =>
  (await gw.gateway.db.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM ledger_entries'))[0]?.seq ??
  0;

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`a read right after a disclosure includes it (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    await gw.gateway.ledger.stop();
    const nhs = validNhsNumberFrom(972_100_000 + (backend === 'pglite' ? 100 : 0));
    const id = await journey(gw, nhs);
    t.ok((await queued(gw)) > 0, 'the journey left entries waiting to be chained');

    const report = await gw.call(CSC, 'auditor', 'GET', `/v1/audit/subject-report?nhsNumber=${nhs}`);
    t.equal(report.status, 200, report.text);
    const actions = (report.json.entries as Array<{ action: string }>).map((e) => e.action);
    for (const action of ['request.created', 'request.refused', 'response.released', 'disclosure.viewed']) {
      t.ok(actions.includes(action), `the subject report lists ${action}`);
    }
    t.equal(report.json.pending, 0, 'nothing committed before the read is missing');
    t.type(report.json.asOf, 'number');
    t.ok(
      (report.json.entries as Array<{ seq: number }>).every((e) => e.seq <= report.json.asOf),
      'asOf covers every entry listed',
    );

    const all = await gw.call(CSC, 'auditor', 'GET', '/v1/audit?action=disclosure.viewed&limit=500');
    t.equal(all.status, 200, all.text);
    t.ok(
      (all.json.entries as Array<{ requestId?: string }>).some((e) => e.requestId === id),
      'the search lists the view',
    );
    t.equal(all.json.pending, 0);
    t.equal(all.json.asOf, await head(gw));

    await journey(gw, nhs);
    const verify = await gw.call(CSC, 'auditor', 'GET', '/v1/audit/verify');
    t.equal(verify.status, 200, verify.text);
    t.equal(verify.json.ok, true);
    t.equal(verify.json.pending, 0);
    t.equal(verify.json.asOf, verify.json.entries, 'verify covers every entry committed before it');
    t.equal(verify.json.asOf, await head(gw), 'including the second journey');
  });
}

t.test('when the wait runs out, the read says what it does not include', async (t) => {
  const gw = await startTestGateway(t, { env: { SGW_AUDIT_READ_WAIT_MS: '300' } });
  const nhs = validNhsNumberFrom(972_100_200);
  await journey(gw, nhs);
  await gw.gateway.ledger.flush();
  const before = await gw.call(CSC, 'auditor', 'GET', `/v1/audit/subject-report?nhsNumber=${nhs}`);
  t.equal(before.json.pending, 0);
  const listed = before.json.count as number;

  // Another sequencer holds the lock and does nothing: no round can run, here or in the gateway.
  await gw.gateway.ledger.stop();
  const holder = new pg.Client({ connectionString: gw.database?.url });
  await holder.connect();
  t.teardown(() => holder.end());
  await holder.query('SELECT pg_advisory_lock($1)', [SEQUENCER_LOCK_KEY]);
  const asOf = await head(gw);
  await journey(gw, nhs);
  const waiting = await queued(gw);
  t.ok(waiting >= 4, `${waiting} entries wait to be chained`);

  const report = await gw.call(CSC, 'auditor', 'GET', `/v1/audit/subject-report?nhsNumber=${nhs}`);
  t.equal(report.status, 200, 'answered anyway');
  t.equal(report.json.asOf, asOf, 'asOf: the last entry it includes');
  t.equal(report.json.pending, waiting, 'pending: the entries committed before the read, not yet chained');
  t.equal(report.json.count, listed, 'the report lists what was chained, and says the rest is pending');
  const search = await gw.call(CSC, 'auditor', 'GET', '/v1/audit?limit=5');
  t.match(search.json, { asOf, pending: waiting + 1 }, "the report's own entry is pending too");
  const verify = await gw.call(CSC, 'auditor', 'GET', '/v1/audit/verify');
  t.match(verify.json, { ok: true, asOf, entries: asOf });
  t.ok(verify.json.pending > 0);

  await holder.query('SELECT pg_advisory_unlock($1)', [SEQUENCER_LOCK_KEY]);
  const after = await gw.call(CSC, 'auditor', 'GET', `/v1/audit/subject-report?nhsNumber=${nhs}`);
  t.equal(after.json.pending, 0, 'once the lock is free, the read chains what it waits for itself');
  t.ok(after.json.count > listed, 'and lists it');
});
