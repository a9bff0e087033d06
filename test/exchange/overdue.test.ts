import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { sweepOverdueRequests } from '../../src/exchange/index.js';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';

const CHILD = { type: 'child', nhsNumber: '9434765919' };

t.test('overdue requests: derived status, one request.overdue to each agency, once', async (t) => {
  const gw = await startTestGateway(t);
  const ask = async (respondInMs: number) => {
    const r = await gw.call(AGENCIES.csc.id, 'social_worker', 'POST', '/v1/requests', {
      to: AGENCIES.police.id,
      subject: CHILD,
      purpose: 's47_enquiry',
      categories: ['incidents'],
      justification: 'Strategy discussion today.',
      respondBy: new Date(Date.now() + respondInMs).toISOString(),
    });
    t.equal(r.status, 201, r.text);
    return r.json.id as string;
  };
  const late = await ask(1200);
  const answered = await ask(1200);
  const notYetDue = await ask(3_600_000);
  const answer = await gw.call(
    AGENCIES.police.id,
    'police_officer',
    'POST',
    `/v1/requests/${answered}/response`,
    {
      data: { incidents: { items: [] } },
    },
  );
  t.equal(answer.status, 200, answer.text);

  t.equal(await sweepOverdueRequests(gw.gateway.db, gw.gateway.ledger), 0, 'nothing is due yet');
  await sleep(1500);

  const seen = await gw.call(AGENCIES.csc.id, 'social_worker', 'GET', `/v1/requests/${late}`);
  t.equal(seen.json.status, 'overdue', 'status is derived on read, before any sweep');
  const [a, b] = await Promise.all([
    sweepOverdueRequests(gw.gateway.db, gw.gateway.ledger),
    sweepOverdueRequests(gw.gateway.db, gw.gateway.ledger),
  ]);
  t.equal(a + b, 1, 'two sweepers at once mark the late request once');
  t.equal(await sweepOverdueRequests(gw.gateway.db, gw.gateway.ledger), 0, 'never twice');

  const events = await gw.gateway.db.query<{ agency_id: string; data: { requestId: string } }>(
    "SELECT agency_id, data FROM outbox WHERE type = 'request.overdue' ORDER BY agency_id",
  );
  t.same(
    events.map((e) => [e.agency_id, e.data.requestId]),
    [
      [AGENCIES.csc.id, late],
      [AGENCIES.police.id, late],
    ],
    'both agencies, only the unanswered late request',
  );
  t.notOk(
    events.some((e) => e.data.requestId === notYetDue || e.data.requestId === answered),
    'neither the answered nor the not-yet-due request',
  );

  const stillAnswerable = await gw.call(
    AGENCIES.police.id,
    'police_officer',
    'POST',
    `/v1/requests/${late}/response`,
    {
      data: { incidents: { items: [] } },
    },
  );
  t.equal(stillAnswerable.status, 200, 'a late answer is still an answer');
});
