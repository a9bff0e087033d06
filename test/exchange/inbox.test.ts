import t from 'tap';
import { sweepOverdueRequests } from '../../src/exchange/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  CSC2,
  child,
  consentBody,
  DAY_MS,
  GP,
  harness,
  nhsNumber,
  PAYLOADS,
  POLICE,
  requestBody,
  UUID,
} from './requests-fixtures.js';

interface Item {
  id: string;
  kind: string;
  ref: string;
  type: string;
  receivedAt: string;
  dueBy?: string;
  ackedAt?: string;
}

/**
 * The inbox (contract section 12) through HTTPS, on both backends: the events the request and consent
 * journeys raise stand in the recipient agency's inbox, and only there; cursor paging; status=open|all;
 * ack; references only.
 */
for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`inbox (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const h = harness(gw);
    const inbox = async (
      agency: string,
      query = '',
      role = 'auditor',
    ): Promise<{ items: Item[]; nextCursor: string | null }> => {
      const r = await gw.call(agency, role, 'GET', `/v1/inbox${query}`);
      if (r.status !== 200) throw new Error(`inbox: ${r.status} ${r.text}`);
      return r.json;
    };
    const allItems = async (agency: string, status = 'all'): Promise<Item[]> => {
      const out: Item[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Item[]; nextCursor: string | null } = await inbox(
          agency,
          `?status=${status}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        );
        out.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    };
    const about = (items: Item[], ref: string) =>
      items.filter((i) => i.ref === ref).map((i) => [i.kind, i.type]);

    t.test('a request is work in the holder’s inbox, its answer news in the requester’s', async (t) => {
      const nhs = nhsNumber(200);
      const created = await h.ask(requestBody({ subject: child(nhs) }));
      t.equal(created.status, 201, created.text);
      const id = created.json.id;

      const [received] = (await allItems(POLICE)).filter((i) => i.ref === id);
      t.match(received, { kind: 'request', type: 'request.received', ref: id, id: UUID });
      t.equal(received?.dueBy, created.json.respondBy, 'dueBy is the respondBy');
      t.ok(Date.parse(received?.receivedAt ?? '') > 0);
      t.same(about(await allItems(CSC), id), [], 'nothing in the requester’s inbox yet');
      for (const other of [GP, CSC2]) t.same(about(await allItems(other), id), [], `nothing for ${other}`);

      const answer = await h.police('POST', `/v1/requests/${id}/response`, {
        data: { incidents: PAYLOADS.incidents },
      });
      t.equal(answer.status, 200, answer.text);
      t.same(about(await allItems(CSC), id), [['event', 'request.responded']]);
      t.notOk((await allItems(CSC)).find((i) => i.ref === id)?.dueBy, 'news has no due date');

      const declinedReq = await h.ask(requestBody({ subject: child(nhs) }));
      await h.police('POST', `/v1/requests/${declinedReq.json.id}/decline`, { reason: 'Not known to us.' });
      t.same(about(await allItems(CSC), declinedReq.json.id), [['event', 'request.declined']]);

      // Items are references only: nothing of the child, the justification or the answer.
      const text = JSON.stringify([...(await allItems(CSC)), ...(await allItems(POLICE))]);
      for (const p of [nhs, 'Sam', 'Example', '2019-05-04', 'Strategy discussion', 'Call-out', 'Not known']) {
        t.notOk(text.includes(p), `no ${p}`);
      }
    });

    t.test('overdue, override and withdrawal events reach the right inboxes', async (t) => {
      const nhs = nhsNumber(201);
      const created = await h.ask(requestBody({ subject: child(nhs) }));
      const id = created.json.id;
      await sweepOverdueRequests(gw.gateway.db, gw.gateway.ledger, new Date(Date.now() + 400 * DAY_MS));
      for (const agency of [CSC, POLICE]) {
        t.same(
          about(await allItems(agency), id).filter(([, type]) => type === 'request.overdue'),
          [['event', 'request.overdue']],
          `request.overdue once for ${agency}`,
        );
      }

      const override = {
        reason: 'risk_of_significant_harm',
        justification: 'Asking would put the child at risk.',
      };
      const overridden = await h.ask(
        requestBody({
          to: GP,
          subject: child(nhs),
          purpose: 's17_assessment',
          categories: ['registration'],
          override,
        }),
      );
      t.equal(overridden.status, 201, overridden.text);
      t.same(about(await allItems(GP), overridden.json.id), [
        ['request', 'request.received'],
        ['event', 'consent.overridden'],
      ]);

      const consent = await h.sw('POST', '/v1/consents', consentBody(nhs, { agencies: [GP, POLICE] }));
      t.equal(consent.status, 201, consent.text);
      await h.gp('POST', `/v1/consents/${consent.json.id}/withdraw`, { reason: 'Parent withdrew.' });
      for (const [agency, n] of [
        [CSC, 1],
        [POLICE, 1],
        [GP, 0],
      ] as const) {
        t.equal(about(await allItems(agency), consent.json.id).length, n, `consent.withdrawn to ${agency}`);
      }
    });

    t.test('cursor paging, open and all, acknowledgement', async (t) => {
      const nhs = nhsNumber(202);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(
          (await h.ask(requestBody({ to: GP, subject: child(nhs), categories: ['registration'] }))).json.id,
        );
      const open = (await allItems(GP, 'open')).filter((i) => ids.includes(i.ref));
      t.same(
        open.map((i) => i.ref),
        ids,
        'oldest first',
      );
      // Walk two at a time: every item once, in order, and the last page says there is no more.
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: Item[]; nextCursor: string | null } = await inbox(
          GP,
          `?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          'gp',
        );
        t.ok(page.items.length <= 2);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      t.same(
        seen,
        (await allItems(GP, 'open')).map((i) => i.id),
        'the pages add up to the open inbox',
      );
      t.equal(new Set(seen).size, seen.length, 'no item twice');

      const target = open[0] as Item;
      const ack = await gw.call(GP, 'gp', 'POST', `/v1/inbox/${target.id}/ack`);
      t.equal(ack.status, 200, ack.text);
      t.match(ack.json, { id: target.id, ref: target.ref, ackedAt: /Z$/ });
      const again = await gw.call(GP, 'safeguarding_lead', 'POST', `/v1/inbox/${target.id}/ack`);
      t.equal(again.status, 200, 'acknowledging twice is harmless');
      t.equal(again.json.ackedAt, ack.json.ackedAt, 'and keeps the first time');
      t.notOk(
        (await allItems(GP, 'open')).some((i) => i.id === target.id),
        'gone from the open inbox',
      );
      t.match(
        (await allItems(GP, 'all')).find((i) => i.id === target.id),
        { ackedAt: ack.json.ackedAt },
        'still in the whole inbox',
      );
      const def = await inbox(GP, '?limit=200');
      t.notOk(
        def.items.some((i) => i.id === target.id),
        'status defaults to open',
      );
    });

    t.test('isolation and bad input', async (t) => {
      const nhs = nhsNumber(203);
      const created = await h.ask(requestBody({ subject: child(nhs) }));
      const [item] = (await allItems(POLICE)).filter((i) => i.ref === created.json.id);
      for (const agency of [CSC, CSC2, GP]) {
        const r = await gw.call(agency, 'auditor', 'POST', `/v1/inbox/${item?.id}/ack`);
        t.equal(r.status, 404, `${agency} cannot ack police's item`);
        t.equal(r.json.code, 'not_found');
      }
      t.notOk((await allItems(POLICE)).find((i) => i.id === item?.id)?.ackedAt, 'and it stays open');
      t.equal((await gw.call(POLICE, 'police_officer', 'POST', '/v1/inbox/not-a-uuid/ack')).status, 404);
      t.equal((await gw.call(POLICE, 'police_officer', 'POST', `/v1/inbox/${UUID_ZERO}/ack`)).status, 404);
      for (const q of [
        '?status=closed',
        '?limit=0',
        '?limit=201',
        '?cursor=abc',
        '?cursor=0',
        '?colour=red',
      ]) {
        const r = await gw.call(POLICE, 'police_officer', 'GET', `/v1/inbox${q}`);
        t.equal(r.status, 400, q);
        t.equal(r.json.code, 'validation_failed');
      }
      const anon = await gw.request('/v1/inbox', { ca: gw.credentials(POLICE).ca });
      t.equal(anon.status, 401, 'no client certificate, no inbox');
    });
  });
}

const UUID_ZERO = '00000000-0000-4000-8000-000000000000';
