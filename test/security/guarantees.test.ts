import t from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  CSC2,
  child,
  DOB,
  FAMILY,
  GIVEN,
  GP,
  nhsNumber,
  POLICE,
  POSTCODE,
  REGISTRATION,
} from './fixtures.js';

/**
 * Guarantees the security review checked and locks in: isolation answers 404 alike for "not yours" and
 * "no such thing"; every /v1 route keeps auditors to audit reads and practitioners out of the audit;
 * prototype-poisoning bodies are refused before any handler; audit filters narrow and never widen;
 * subject identifiers reach neither the ledger nor the outbox in plaintext.
 */
/** An id that names nothing: for routes whose role check must come before any lookup. */
const NONE = '00000000-0000-4000-8000-000000000000';

t.test('security guarantees (postgres)', async (t) => {
  const gw = await startTestGateway(t, { backend: 'postgres' });
  const { db } = gw.gateway;
  const nhs = nhsNumber(20);
  const created = await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', {
    to: GP,
    subject: child(nhs),
    relatedChildren: [child(nhsNumber(21))],
    purpose: 's47_enquiry',
    categories: ['registration'],
    justification: 's47 enquiry opened.',
  });
  t.equal(created.status, 201, created.text);
  const id = created.json.id as string;
  const answered = await gw.call(GP, 'gp', 'POST', `/v1/requests/${id}/response`, {
    data: { registration: REGISTRATION },
  });
  t.equal(answered.status, 200, answered.text);
  t.equal((await gw.call(CSC, 'social_worker', 'GET', `/v1/requests/${id}`)).status, 200);
  const consent = await gw.call(GP, 'gp', 'POST', '/v1/consents', {
    subject: child(nhs),
    givenBy: { relationship: 'parent', name: `${GIVEN} ${FAMILY}` },
    status: 'given',
    purposes: ['s17_assessment'],
    validFrom: new Date(Date.now() - 86_400_000).toISOString(),
    evidence: 'Signed form.',
  });
  t.equal(consent.status, 201, consent.text);
  await gw.gateway.ledger.flush();

  t.test('another agency learns nothing of a request: the same 404 as for an unknown id', async (t) => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const strip = (r: { status: number; json: Record<string, unknown> }) => {
      const { requestId: _id, ...rest } = r.json;
      return { status: r.status, ...rest };
    };
    const calls: Array<[string, string, unknown?]> = [
      ['GET', ''],
      ['POST', '/response', { data: { registration: REGISTRATION } }],
      ['POST', '/decline', { reason: 'No.' }],
    ];
    for (const [method, suffix, body] of calls) {
      const theirs = await gw.call(CSC2, 'social_worker', method, `/v1/requests/${id}${suffix}`, body);
      const none = await gw.call(CSC2, 'social_worker', method, `/v1/requests/${unknown}${suffix}`, body);
      t.equal(theirs.status, 404, `${method} ${suffix || 'read'}`);
      t.same(strip(theirs), strip(none), `${method} ${suffix || 'read'}: indistinguishable from unknown`);
    }
    // A health agency that is not the holder either.
    t.equal((await gw.call(POLICE, 'police_officer', 'GET', `/v1/requests/${id}`)).status, 404);
  });

  t.test('roles: auditors read the audit only; practitioners and admins never read the audit', async (t) => {
    const caseRoutes: Array<[string, string, unknown?]> = [
      ['POST', '/v1/requests', {}],
      ['GET', `/v1/requests/${id}`],
      ['POST', `/v1/requests/${id}/response`, { data: {} }],
      ['POST', `/v1/requests/${id}/decline`, { reason: 'x' }],
      ['POST', '/v1/consents', {}],
      ['GET', `/v1/consents?nhsNumber=${nhs}`],
      ['POST', `/v1/consents/${consent.json.id}/withdraw`, { reason: 'x' }],
      ['GET', '/v1/concerns'],
      ['GET', `/v1/concerns/${NONE}`],
      ['POST', `/v1/concerns/${NONE}/decision`, {}],
      ['PUT', '/v1/flags', {}],
      ['DELETE', `/v1/flags/${NONE}`],
      ['POST', '/v1/flags/search', {}],
    ];
    for (const role of ['auditor', 'agency_admin']) {
      for (const [method, path, body] of caseRoutes) {
        const r = await gw.call(CSC, role, method, path, body);
        t.equal(r.status, 403, `${role} ${method} ${path}`);
        t.equal(r.json.code, 'forbidden');
      }
    }
    const auditRoutes = ['/v1/audit', `/v1/audit/subject-report?nhsNumber=${nhs}`, '/v1/audit/verify'];
    // Hashes only: every role may witness the ledger (contract section 11).
    const witnessRoutes = [
      '/v1/audit/checkpoint',
      '/v1/audit/entries/1/proof',
      '/v1/audit/consistency?from=0&to=1',
    ];
    for (const role of ['social_worker', 'agency_admin']) {
      for (const path of auditRoutes) {
        const r = await gw.call(CSC, role, 'GET', path);
        t.equal(r.status, 403, `${role} GET ${path}`);
      }
      for (const path of witnessRoutes) {
        t.equal((await gw.call(CSC, role, 'GET', path)).status, 200, `${role} GET ${path}`);
      }
    }
    for (const path of [...auditRoutes, ...witnessRoutes]) {
      t.equal((await gw.call(CSC, 'auditor', 'GET', path)).status, 200, `auditor GET ${path}`);
    }
  });

  t.test('prototype-poisoning bodies are refused before any handler runs', async (t) => {
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM info_requests'))[0]?.n;
    for (const raw of [
      `{"to":"${GP}","__proto__":{"role":"auditor"}}`,
      `{"to":"${GP}","constructor":{"prototype":{"granted":["medications"]}}}`,
    ]) {
      const r = await gw.request('/v1/requests', gw.credentials(CSC), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${gw.token(CSC, 'social_worker')}`,
          'content-type': 'application/json',
        },
        rawBody: raw,
      });
      t.equal(r.status, 400, r.text);
      t.equal(r.json.code, 'validation_failed');
    }
    const after = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM info_requests'))[0]?.n;
    t.equal(after, before, 'nothing was created');
    t.equal(({} as Record<string, unknown>).role, undefined, 'no prototype was touched');
  });

  t.test('audit filters narrow the viewer agency and never widen it', async (t) => {
    const seen = async (agency: string, query: string) => {
      const r = await gw.call(agency, 'auditor', 'GET', `/v1/audit?limit=500&${query}`);
      t.equal(r.status, 200, r.text);
      return r.json.entries as Array<{ actor: { agency: string }; counterpart?: string }>;
    };
    for (const query of [
      '',
      `agency=${CSC}`,
      `agency=${GP}`,
      `nhsNumber=${nhs}`,
      'cursor=1',
      `actorSub=gp-1`,
    ]) {
      // Its own auditor's searches are ledgered (audit.searched) and are its own to see; nothing else.
      for (const e of await seen(CSC2, query)) {
        const own = e.actor.agency === CSC2 && (e as { action?: string }).action?.startsWith('audit.');
        if (!own) t.fail(`csc-south saw ${JSON.stringify(e)} with "${query}"`);
      }
      for (const e of await seen(POLICE, query)) {
        t.ok(e.actor.agency === POLICE || e.counterpart === POLICE, `police own entries only (${query})`);
      }
    }
    const report = await gw.call(CSC2, 'auditor', 'GET', `/v1/audit/subject-report?nhsNumber=${nhs}`);
    t.equal(report.status, 200);
    t.same(
      report.json.entries.filter((e: { action: string }) => !e.action.startsWith('audit.')),
      [],
      'a subject report shows only the caller agency part',
    );
    for (const q of [
      `agency=${CSC}&agency=${CSC2}`,
      'limit=1&limit=500',
      `nhsNumber=${nhs}&nhsNumber=${nhs}`,
    ]) {
      t.equal((await gw.call(CSC2, 'auditor', 'GET', `/v1/audit?${q}`)).status, 400, `repeated: ${q}`);
    }
  });

  t.test('no subject identifier in plaintext in the ledger or the outbox', async (t) => {
    const ledger = (await db.query<{ t: string }>('SELECT row_to_json(e)::text AS t FROM ledger_entries e'))
      .map((r) => r.t)
      .join('\n');
    const queue = (await db.query<{ t: string }>('SELECT body::text AS t FROM ledger_queue')).map((r) => r.t);
    const outbox = (await db.query<{ t: string }>('SELECT row_to_json(o)::text AS t FROM outbox o'))
      .map((r) => r.t)
      .join('\n');
    t.ok(ledger.length > 0 && outbox.length > 0, 'there is something to look at');
    for (const [label, text] of [
      ['ledger', ledger],
      ['queue', queue.join('\n')],
      ['outbox', outbox],
    ] as const) {
      for (const value of [nhs, nhsNumber(21), FAMILY, GIVEN, DOB, POSTCODE, REGISTRATION.usualGp]) {
        t.notOk(text.includes(value), `${label} holds no "${value}"`);
      }
    }
  });
});
