import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import { CSC, child, GP, harness, nhsNumber, PAYLOADS, POLICE, requestBody } from './requests-fixtures.js';

/**
 * Information requests: one answer only (concurrent answers, decline then answer), overdue requests, and
 * failing closed when the ledger cannot record (contract sections 6 and 11), on PostgreSQL.
 */
t.test('requests: state and failing closed (postgres)', async (t) => {
  const gw = await startTestGateway(t, { backend: 'postgres' });
  const h = harness(gw);
  const { db } = gw.gateway;
  const answerBody = { data: { incidents: PAYLOADS.incidents } };
  const create = async (n: number, over: Record<string, unknown> = {}) => {
    const r = await h.ask(requestBody({ subject: child(nhsNumber(n)), ...over }));
    if (r.status !== 201) throw new Error(`request not created: ${r.text}`);
    return r.json.id as string;
  };
  const storedStatus = async (id: string) =>
    (await db.query<{ status: string }>('SELECT status FROM info_requests WHERE id = $1', [id]))[0]?.status;

  t.test('two answers at once: exactly one is taken', async (t) => {
    for (let round = 0; round < 3; round++) {
      const id = await create(60 + round);
      const second = { data: { incidents: { items: [] } } };
      const results = await Promise.all([
        h.police('POST', `/v1/requests/${id}/response`, answerBody),
        h.as(POLICE, 'public_protection_officer')('POST', `/v1/requests/${id}/response`, second),
      ]);
      t.same(results.map((r) => r.status).sort(), [200, 409], results.map((r) => r.text).join(' | '));
      const loser = results.find((r) => r.status === 409);
      t.equal(loser?.json.code, 'conflict');
      t.equal(
        await h.countRows(`outbox WHERE type = 'request.responded' AND data->>'requestId' = $1`, [id]),
        1,
      );
      const released = (
        await h.audit(POLICE, `action=response.released&nhsNumber=${nhsNumber(60 + round)}`)
      ).filter((e) => e.requestId === id);
      t.equal(released.length, 1, 'one release in the ledger');
      // The stored answer is the winner's.
      const winner = results.findIndex((r) => r.status === 200);
      const read = await h.sw('GET', `/v1/requests/${id}`);
      t.same(read.json.response.data, winner === 0 ? answerBody.data : second.data);
    }
  });

  t.test('an answer and a decline at once: exactly one is taken', async (t) => {
    const id = await create(63);
    const results = await Promise.all([
      h.police('POST', `/v1/requests/${id}/response`, answerBody),
      h.police('POST', `/v1/requests/${id}/decline`, { reason: 'Ongoing investigation.' }),
    ]);
    t.same(results.map((r) => r.status).sort(), [200, 409]);
    const expected = results[0]?.status === 200 ? 'responded' : 'declined';
    t.equal(await storedStatus(id), expected);
    t.equal(
      await h.countRows(
        `outbox WHERE type IN ('request.responded', 'request.declined') AND data->>'requestId' = $1`,
        [id],
      ),
      1,
    );
  });

  t.test('declined, then answered or declined again: 409', async (t) => {
    const id = await create(64);
    const declined = await h.police('POST', `/v1/requests/${id}/decline`, { reason: 'Not known to us.' });
    t.equal(declined.status, 200, declined.text);
    for (const r of [
      await h.police('POST', `/v1/requests/${id}/response`, answerBody),
      await h.police('POST', `/v1/requests/${id}/decline`, { reason: 'Again.' }),
    ]) {
      t.equal(r.status, 409, r.text);
      t.equal(r.json.code, 'conflict');
      t.notOk(r.text.includes('Not known to us'), 'the earlier reason is not echoed');
    }
    t.equal(await storedStatus(id), 'declined');
    const read = await h.sw('GET', `/v1/requests/${id}`);
    t.equal(read.json.decline.reason, 'Not known to us.');
    t.notOk(read.json.response);
  });

  t.test('overdue: past respondBy with no answer, and still answerable', async (t) => {
    const respondBy = new Date(Date.now() + 1500);
    const id = await create(65, { respondBy: respondBy.toISOString() });
    const early = await h.police('GET', `/v1/requests/${id}`);
    t.equal(early.json.status, 'awaiting_response');
    await sleep(Math.max(0, respondBy.getTime() - Date.now()) + 300);
    for (const r of [await h.police('GET', `/v1/requests/${id}`), await h.sw('GET', `/v1/requests/${id}`)]) {
      t.equal(r.status, 200);
      t.equal(r.json.status, 'overdue', 'both parties see it overdue');
    }
    const late = await h.police('POST', `/v1/requests/${id}/response`, answerBody);
    t.equal(late.status, 200, late.text);
    t.equal(late.json.status, 'responded');
    const after = await h.sw('GET', `/v1/requests/${id}`);
    t.equal(after.json.status, 'responded');
    t.same(after.json.response.data, answerBody.data);

    // An overdue request can also be declined.
    const other = await create(66, { respondBy: new Date(Date.now() + 1200).toISOString() });
    await sleep(1500);
    t.equal((await h.sw('GET', `/v1/requests/${other}`)).json.status, 'overdue');
    const declined = await h.police('POST', `/v1/requests/${other}/decline`, { reason: 'Too late to help.' });
    t.equal(declined.status, 200);
    t.equal((await h.sw('GET', `/v1/requests/${other}`)).json.status, 'declined');
  });

  t.test('fail closed: nothing is disclosed when the ledger cannot record', async (t) => {
    // Set up while the ledger works: one request answered, one awaiting.
    const answeredNhs = nhsNumber(67);
    const answered = await create(67);
    t.equal((await h.police('POST', `/v1/requests/${answered}/response`, answerBody)).status, 200);
    const awaiting = await create(68);

    // A test-only fault: the database refuses every ledger write, as a full disk would.
    await db.query(`CREATE FUNCTION test_refuse_queue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
    await db.query(
      'CREATE TRIGGER test_refuse_queue BEFORE INSERT ON ledger_queue FOR EACH ROW EXECUTE FUNCTION test_refuse_queue()',
    );
    let dropped = false;
    const heal = async () => {
      if (dropped) return;
      dropped = true;
      await db.query('DROP TRIGGER test_refuse_queue ON ledger_queue');
      await db.query('DROP FUNCTION test_refuse_queue()');
    };
    t.teardown(heal);
    const expect503 = (r: { status: number; json: { code?: string }; text: string }, what: string) => {
      t.equal(r.status, 503, `${what}: ${r.text}`);
      t.equal(r.json.code, 'audit_unavailable', what);
      t.notMatch(r.text, /disk full|ledger_queue|trigger/, `${what}: no internal message`);
    };

    const nhs = nhsNumber(69);
    const outboxBefore = await h.countRows('outbox');
    expect503(await h.ask(requestBody({ subject: child(nhs) })), 'create');
    t.equal(await h.requestsFor(nhs), 0, 'no info_requests row');
    expect503(
      await h.ask(requestBody({ subject: child(nhs), categories: ['intelligence'] })),
      'a refusal that cannot be recorded',
    );
    expect503(
      await h.ask(
        requestBody({
          to: GP,
          subject: child(nhs),
          purpose: 's17_assessment',
          categories: ['registration'],
          override: { reason: 'risk_of_significant_harm', justification: 'Urgent.' },
        }),
      ),
      'an override',
    );
    t.equal(await h.requestsFor(nhs), 0);

    const read = await h.sw('GET', `/v1/requests/${answered}`);
    expect503(read, 'requester read of released data');
    t.notOk(read.text.includes('Call-out'), 'no data');
    t.notOk(read.text.includes('INC-1'), 'no data');
    t.notOk(read.json.response);

    expect503(await h.police('POST', `/v1/requests/${awaiting}/response`, answerBody), 'answer');
    expect503(await h.police('POST', `/v1/requests/${awaiting}/decline`, { reason: 'No.' }), 'decline');
    t.equal(await storedStatus(awaiting), 'awaiting_response', 'neither answer nor decline was kept');
    t.equal(await h.countRows('outbox'), outboxBefore, 'no event left behind');

    // Reads that disclose nothing new need no entry: the holder's own view, and a request not yet answered.
    t.equal((await h.police('GET', `/v1/requests/${answered}`)).status, 200);
    const unanswered = await h.sw('GET', `/v1/requests/${awaiting}`);
    t.equal(unanswered.status, 200);
    t.notOk(unanswered.json.response);

    await heal();
    const again = await h.sw('GET', `/v1/requests/${answered}`);
    t.equal(again.status, 200, 'once the ledger records again, the read works');
    t.same(again.json.response.data, answerBody.data);
    const viewed = (await h.audit(CSC, `action=disclosure.viewed&nhsNumber=${answeredNhs}`)).filter(
      (e) => e.requestId === answered,
    );
    t.equal(viewed.length, 1, 'only the read that was disclosed is ledgered');
    t.equal((await h.police('POST', `/v1/requests/${awaiting}/response`, answerBody)).status, 200);
  });
});
