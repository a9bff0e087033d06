import t from 'tap';
import { sweepOverdueConcerns } from '../../src/exchange/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import { CSC, child, concernBody, concernHarness, decisionBody, GP, nhsNumber } from './concerns-fixtures.js';

/**
 * The gateway keeps the clock (contract section 5, DOMAIN.md's timescales): acknowledgeBy on the
 * examples of DOMAIN.md, received on days the test sets the gateway's clock to; overdue shown on read as
 * soon as the deadline passes, `concern.overdue` once to both agencies however often the sweep runs, and
 * a late decision still taken and shown late. On both backends.
 */
const at = (iso: string) => new Date(iso);

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`concern deadlines (${backend})`, async (t) => {
    let clock = at('2026-12-24T10:00:00Z');
    const gw = await startTestGateway(t, { backend, now: () => clock });
    const h = concernHarness(gw);
    const { db, ledger } = gw.gateway;

    const raiseAt = async (receivedAt: string, urgency = 'standard', n = 10) => {
      clock = at(receivedAt);
      const r = await h.gp('POST', '/v1/concerns', concernBody({ urgency, child: child(nhsNumber(n)) }));
      t.equal(r.status, 201, r.text);
      t.equal(r.json.submittedAt, clock.toISOString(), 'received at the gateway’s time');
      return r.json as { id: string; acknowledgeBy: string };
    };

    t.test('acknowledgeBy on the DOMAIN.md examples', async (t) => {
      const cases: Array<[string, string, string, string?]> = [
        // Thursday 24 December 2026: Christmas Day and Boxing Day (substitute Monday 28) are bank holidays.
        ['Christmas Eve', '2026-12-24T10:00:00Z', '2026-12-29T23:59:59.000Z'],
        // A Friday concern is due at the end of Monday, 23:59:59 in London: 22:59:59 UTC in summer time.
        ['a Friday in summer time', '2026-07-03T10:00:00Z', '2026-07-06T22:59:59.000Z'],
        ['a Friday in winter', '2026-11-20T15:00:00Z', '2026-11-23T23:59:59.000Z'],
        // Thursday 25 March 2027: Good Friday 26 and Easter Monday 29 March; the clocks go forward on 28.
        ['Maundy Thursday 2027', '2027-03-25T10:00:00Z', '2027-03-30T22:59:59.000Z'],
        // 23:30 in London is still the day of receipt: due at the end of the next working day, not today.
        ['23:30 in winter', '2026-11-18T23:30:00Z', '2026-11-19T23:59:59.000Z'],
        ['23:30 in summer time (22:30 UTC)', '2026-07-01T22:30:00Z', '2026-07-02T22:59:59.000Z'],
        // 23:30 UTC on a Friday in summer time is already Saturday in London: Monday.
        ['00:30 Saturday in London', '2026-07-03T23:30:00Z', '2026-07-06T22:59:59.000Z'],
        ['received on a Sunday', '2026-11-22T12:00:00Z', '2026-11-23T23:59:59.000Z'],
        // Immediate: one hour, round the clock, bank holidays included.
        ['immediate', '2026-12-24T10:00:00Z', '2026-12-24T11:00:00.000Z', 'immediate'],
        ['immediate on Christmas Day', '2026-12-25T03:15:00Z', '2026-12-25T04:15:00.000Z', 'immediate'],
      ];
      for (const [what, receivedAt, due, urgency] of cases) {
        const c = await raiseAt(receivedAt, urgency);
        t.equal(c.acknowledgeBy, due, what);
        const read = await h.sw('GET', `/v1/concerns/${c.id}`);
        t.equal(read.json.acknowledgeBy, due, `${what}: as stored`);
        const inbox = await h.inbox(c.id);
        t.equal(inbox[0]?.due_by, due, `${what}: the CSC's inbox item is due then`);
      }
    });

    t.test('a day the working-day calendar does not cover: 503, nothing stored', async (t) => {
      clock = at('2036-01-02T10:00:00Z');
      const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM concerns');
      const r = await h.gp('POST', '/v1/concerns', concernBody());
      t.equal(r.status, 503, r.text);
      t.equal(r.json.code, 'dependency_unavailable');
      t.same(await db.query('SELECT count(*)::int AS n FROM concerns'), before);
    });

    t.test('overdue on read, concern.overdue once to both agencies, a late decision', async (t) => {
      const late = await raiseAt('2026-12-24T10:00:00Z', 'standard', 20);
      const inTime = await raiseAt('2026-12-24T10:05:00Z', 'standard', 21);
      const urgent = await raiseAt('2026-12-24T10:10:00Z', 'immediate', 22);
      clock = at('2026-12-28T09:00:00Z');
      t.equal((await h.sw('POST', `/v1/concerns/${inTime.id}/decision`, decisionBody())).status, 200);
      await sweepOverdueConcerns(db, ledger, clock);
      const overdue = async (id: string) =>
        (await h.events(id)).filter((e) => e.type === 'concern.overdue').map((e) => e.agency_id);
      t.same(await overdue(urgent.id), [GP, CSC], 'the immediate one is late already');
      t.same(await overdue(late.id), [], 'the standard one is not due yet');

      clock = at('2026-12-29T23:59:59Z');
      t.equal((await h.gp('GET', `/v1/concerns/${late.id}`)).json.status, 'submitted', 'due, not yet late');

      clock = at('2026-12-30T00:00:00Z');
      for (const read of [h.gp, h.sw]) {
        t.equal((await read('GET', `/v1/concerns/${late.id}`)).json.status, 'overdue', 'derived on read');
        t.equal((await read('GET', `/v1/concerns/${inTime.id}`)).json.status, 'decided');
        t.equal((await read('GET', `/v1/concerns/${urgent.id}`)).json.status, 'overdue');
      }

      // Two sweepers at once (two gateway processes), then a third: each concern is marked once.
      await Promise.all([sweepOverdueConcerns(db, ledger, clock), sweepOverdueConcerns(db, ledger, clock)]);
      t.equal(await sweepOverdueConcerns(db, ledger, clock), 0, 'nothing left to mark');
      t.same(await overdue(late.id), [GP, CSC], 'one to each agency');
      t.same(await overdue(urgent.id), [GP, CSC], 'still one to each agency');
      t.same(await overdue(inTime.id), [], 'none for a concern decided in time');
      const event = (await h.events(late.id)).find((e) => e.type === 'concern.overdue');
      t.same(event?.data, { concernId: late.id, from: GP, to: CSC, acknowledgeBy: late.acknowledgeBy });
      const items = (await h.inbox(late.id)).filter((i) => i.type === 'concern.overdue');
      t.same(
        items.map((i) => [i.agency_id, i.kind]),
        [
          [GP, 'event'],
          [CSC, 'event'],
        ],
      );

      clock = at('2026-12-30T09:30:00Z');
      const decided = await h.sw('POST', `/v1/concerns/${late.id}/decision`, decisionBody());
      t.equal(decided.status, 200, 'a late decision is still a decision');
      t.match(decided.json, {
        status: 'decided',
        decidedAt: '2026-12-30T09:30:00.000Z',
        acknowledgeBy: '2026-12-29T23:59:59.000Z',
        decidedLate: true,
      });
      const read = await h.gp('GET', `/v1/concerns/${late.id}`);
      t.equal(read.json.status, 'decided');
      t.equal(read.json.acknowledgeBy, '2026-12-29T23:59:59.000Z', 'the deadline stays visible');
      t.equal(read.json.decision.decidedLate, true, 'and so does the lateness');
      const decidedEvent = (await h.events(late.id)).find((e) => e.type === 'concern.decided');
      t.equal(decidedEvent?.data.decidedLate, true);
      t.equal(await sweepOverdueConcerns(db, ledger, at('2027-01-10T00:00:00Z')), 0);
      t.same(await overdue(late.id), [GP, CSC], 'still only once each');
    });
  });
}
