import t from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import { CSC, CSC2, concernBody, concernHarness, decisionBody, GP, POLICE } from './concerns-fixtures.js';

interface Item {
  id: string;
  status: string;
  from: string;
  to: string;
  acknowledgeBy: string;
  outcome?: string;
  decidedAt?: string;
}

/**
 * GET /v1/concerns (our addition to contract section 5): a MASH worker's list of the agency's concerns,
 * both directions, soonest deadline first, paged; references only, so nothing is disclosed or ledgered.
 */
t.test('concerns: the agency’s list (postgres)', async (t) => {
  let clock = new Date('2026-12-01T09:00:00Z');
  const gw = await startTestGateway(t, { now: () => clock });
  const h = concernHarness(gw);
  const list = async (agency: string, role: string, query = '') => {
    const r = await h.as(agency, role)('GET', `/v1/concerns${query}`);
    t.equal(r.status, 200, r.text);
    return r.json as { items: Item[]; nextCursor: string | null };
  };
  const raiseAt = async (iso: string, asAgency: string, role: string, over: Record<string, unknown> = {}) => {
    clock = new Date(iso);
    const r = await h.as(asAgency, role)('POST', '/v1/concerns', concernBody(over));
    t.equal(r.status, 201, r.text);
    return r.json.id as string;
  };
  // Standard concerns are due at the end of the next working day, immediate ones an hour after receipt.
  const c3 = await raiseAt('2026-12-03T09:00:00Z', GP, 'gp');
  const c1 = await raiseAt('2026-12-01T09:00:00Z', GP, 'gp', { caseReference: 'GP-1' });
  const c2 = await raiseAt('2026-12-02T09:00:00Z', POLICE, 'police_officer');
  const urgent = await raiseAt('2026-12-03T10:00:00Z', GP, 'gp', { urgency: 'immediate' });
  const elsewhere = await raiseAt('2026-11-30T09:00:00Z', GP, 'gp', { to: CSC2 });
  clock = new Date('2026-12-03T11:30:00Z');

  const ids = (items: Item[]) => items.map((i) => i.id);
  const received = await list(CSC, 'mash_officer');
  t.same(ids(received.items), [c1, urgent, c2, c3], 'the CSC’s own, soonest deadline first');
  t.equal(received.nextCursor, null);
  t.same(
    received.items.map((i) => i.status),
    ['overdue', 'overdue', 'submitted', 'submitted'],
    'overdue derived for the list too',
  );
  t.same(Object.keys(received.items[0] ?? {}).sort(), [
    'acknowledgeBy',
    'caseReference',
    'categories',
    'from',
    'id',
    'status',
    'submittedAt',
    'to',
    'urgency',
  ]);
  t.notOk(JSON.stringify(received).includes('Example'), 'no child in a list');
  t.notOk(JSON.stringify(received).includes('untreated'), 'no summary in a list');

  t.same(ids((await list(GP, 'gp')).items), [elsewhere, c1, urgent, c3], 'the referrer’s, both CSCs');
  t.same(ids((await list(POLICE, 'police_officer')).items), [c2]);
  t.same(ids((await list(CSC2, 'social_worker')).items), [elsewhere], 'another CSC sees only its own');

  t.test('decided concerns leave the open list and stay in all', async (t) => {
    t.equal((await h.sw('POST', `/v1/concerns/${c2}/decision`, decisionBody())).status, 200);
    t.same(ids((await list(CSC, 'social_worker', '?status=open')).items), [c1, urgent, c3]);
    const all = await list(CSC, 'social_worker', '?status=all');
    t.same(ids(all.items), [c1, urgent, c2, c3]);
    const decided = all.items.find((i) => i.id === c2);
    t.match(decided, {
      status: 'decided',
      outcome: 'child_and_family_assessment',
      decidedAt: clock.toISOString(),
    });
  });

  t.test('pages', async (t) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(GP, 'gp', `?status=all&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      t.ok(page.items.length <= 2);
      seen.push(...ids(page.items));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    t.same(seen, [elsewhere, c1, urgent, c3], 'every concern once, in order');
    t.equal(pages, 3, 'two full pages, then an empty one');
  });

  t.test('is not a disclosure: nothing is ledgered', async (t) => {
    await gw.gateway.ledger.flush();
    const head = async () =>
      (await gw.gateway.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_entries'))[0]?.n;
    const before = await head();
    await list(CSC, 'mash_officer', '?status=all');
    await gw.gateway.ledger.flush();
    t.equal(await head(), before);
  });

  t.test('bad queries and roles', async (t) => {
    for (const query of [
      '?status=closed',
      '?limit=0',
      '?limit=101',
      '?cursor=abc',
      '?cursor=1_nope',
      '?x=1',
    ]) {
      const r = await h.sw('GET', `/v1/concerns${query}`);
      t.equal(r.status, 400, `${query}: ${r.text}`);
      t.equal(r.json.code, 'validation_failed');
    }
    t.equal((await h.as(CSC, 'auditor')('GET', '/v1/concerns')).status, 403);
    t.equal((await h.as(GP, 'agency_admin')('GET', '/v1/concerns')).status, 403);
  });
});
