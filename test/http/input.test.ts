import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';
import { CSC, GP, POLICE, validNhsNumberFrom } from '../helpers/ids.js';

/**
 * Bodies are validated as sent, without type coercion (a number is not a string, a string is not a
 * list); query strings and path parameters, which are text by nature, are still coerced. A body in a
 * charset other than UTF-8 is 415. Over real HTTPS, on several routes.
 */
const gw = await startTestGateway(t);
const NHS = validNhsNumberFrom(971_100_000);

const requestBody = (over: Record<string, unknown> = {}) => ({
  to: POLICE,
  subject: { type: 'child', nhsNumber: NHS },
  purpose: 's47_enquiry',
  categories: ['incidents'],
  justification: 'Strategy discussion held today; s47 enquiry opened.',
  ...over,
});

const consentBody = (over: Record<string, unknown> = {}) => ({
  subject: { type: 'child', nhsNumber: NHS },
  givenBy: { relationship: 'parent', name: 'Jo Example' },
  status: 'given',
  purposes: ['early_help'],
  agencies: [GP],
  validFrom: '2026-01-01T00:00:00Z',
  evidence: 'Signed consent form.',
  ...over,
});

const sw = (method: string, path: string, body?: unknown) =>
  gw.call(CSC, 'social_worker', method, path, body);

function expectInvalid(t: Test, r: HttpResult, path: string): void {
  t.equal(r.status, 400, r.text);
  t.equal(r.json?.code, 'validation_failed');
  const paths = (r.json?.errors ?? []).map((e: { path: string }) => e.path);
  t.ok(paths.includes(path), `errors name ${path}: ${JSON.stringify(paths)}`);
}

t.test('POST /v1/requests: no coercion of body values', async (t) => {
  expectInvalid(t, await sw('POST', '/v1/requests', requestBody({ justification: 12345 })), '/justification');
  expectInvalid(t, await sw('POST', '/v1/requests', requestBody({ justification: true })), '/justification');
  expectInvalid(t, await sw('POST', '/v1/requests', requestBody({ categories: 'incidents' })), '/categories');
  expectInvalid(
    t,
    await sw('POST', '/v1/requests', requestBody({ subject: { type: 'child', nhsNumber: Number(NHS) } })),
    '/subject/nhsNumber',
  );
  expectInvalid(t, await sw('POST', '/v1/requests', requestBody({ caseReference: 42 })), '/caseReference');
  expectInvalid(t, await sw('POST', '/v1/requests', requestBody({ to: null })), '/to');
  const rows = await gw.gateway.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM info_requests WHERE subject->>'nhsNumber' = $1",
    [NHS],
  );
  t.equal(rows[0]?.n, 0, 'nothing was stored');
  const ok = await sw('POST', '/v1/requests', requestBody());
  t.equal(ok.status, 201, `the same body with proper types is accepted: ${ok.text}`);
});

t.test('other routes: consents, decline, explain', async (t) => {
  expectInvalid(t, await sw('POST', '/v1/consents', consentBody({ purposes: 'early_help' })), '/purposes');
  expectInvalid(t, await sw('POST', '/v1/consents', consentBody({ evidence: 12 })), '/evidence');
  expectInvalid(t, await sw('POST', '/v1/consents', consentBody({ agencies: GP })), '/agencies');
  expectInvalid(
    t,
    await gw.call(POLICE, 'police_officer', 'POST', `/v1/requests/${randomUUID()}/decline`, { reason: 7 }),
    '/reason',
  );
  expectInvalid(
    t,
    await sw('POST', '/v1/policies/explain', { to: POLICE, purpose: 's47_enquiry', categories: 'incidents' }),
    '/categories',
  );
  const explained = await sw('POST', '/v1/policies/explain', {
    to: POLICE,
    purpose: 's47_enquiry',
    categories: ['incidents'],
  });
  t.equal(explained.status, 200, explained.text);
});

t.test('query strings and path parameters are still coerced from text', async (t) => {
  const audit = await gw.call(CSC, 'auditor', 'GET', '/v1/audit?limit=5');
  t.equal(audit.status, 200, audit.text);
  const consents = await sw('GET', `/v1/consents?nhsNumber=${NHS}`);
  t.equal(consents.status, 200, consents.text);
  await gw.gateway.ledger.flush();
  const proof = await gw.call(CSC, 'auditor', 'GET', '/v1/audit/entries/1/proof?treeSize=1');
  t.equal(proof.status, 200, `an integer path parameter and query value: ${proof.text}`);
  t.equal(proof.json.treeSize, 1);
});

t.test('a charset other than UTF-8 is 415, before the body is read', async (t) => {
  const body = JSON.stringify(
    requestBody({ subject: { type: 'child', nhsNumber: validNhsNumberFrom(971_100_100) } }),
  );
  const send = (contentType: string, raw: string | Buffer) =>
    gw.request('/v1/requests', gw.credentials(CSC), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gw.token(CSC, 'social_worker')}`,
        'content-type': contentType,
      },
      rawBody: raw,
    });
  const utf16 = Buffer.from(`\ufeff${body}`, 'utf16le');
  for (const [contentType, raw] of [
    ['application/json; charset=utf-16', utf16],
    ['application/json; charset=UTF-16LE', utf16],
    ['application/json;charset="utf-16"', utf16],
    ['application/json; charset=iso-8859-1', body],
  ] as const) {
    const r = await send(contentType, raw);
    t.equal(r.status, 415, `${contentType}: ${r.text}`);
    t.equal(r.json?.code, 'unsupported_media_type');
    t.match(r.headers['content-type'], /^application\/problem\+json/);
  }
  const consent = await gw.request('/v1/consents', gw.credentials(CSC), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${gw.token(CSC, 'social_worker')}`,
      'content-type': 'application/json; charset=utf-16',
    },
    rawBody: Buffer.from(JSON.stringify(consentBody()), 'utf16le'),
  });
  t.equal(consent.status, 415, 'on another route too');
  for (const contentType of ['application/json; charset=UTF-8', 'application/json; charset="utf-8"']) {
    const r = await send(contentType, body);
    t.equal(r.status, 201, `${contentType} is accepted: ${r.text}`);
  }
});

t.test(
  'implausible subjects are 400 on every route that takes one, naming the field, never the value',
  async (t) => {
    const outOfRange = validNhsNumberFrom(500_000_000);
    const cases: Array<[string, string, unknown, string]> = [
      [
        'POST',
        '/v1/requests',
        requestBody({ subject: { type: 'child', nhsNumber: '0000000000' } }),
        '/subject/nhsNumber',
      ],
      [
        'POST',
        '/v1/requests',
        requestBody({ subject: { type: 'child', nhsNumber: outOfRange } }),
        '/subject/nhsNumber',
      ],
      [
        'POST',
        '/v1/requests',
        requestBody({ subject: { type: 'child', nhsNumber: NHS, dateOfBirth: '9999-12-31' } }),
        '/subject/dateOfBirth',
      ],
      [
        'POST',
        '/v1/requests',
        requestBody({
          relatedChildren: [{ type: 'child', name: { given: 'A', family: 'B' }, dateOfBirth: '0000-01-01' }],
        }),
        '/relatedChildren/0/dateOfBirth',
      ],
      [
        'POST',
        '/v1/requests',
        requestBody({
          relatedChildren: [
            { type: 'unborn', name: { given: 'A', family: 'B' }, expectedDeliveryDate: '2031-01-01' },
          ],
        }),
        '/relatedChildren/0/expectedDeliveryDate',
      ],
      [
        'POST',
        '/v1/consents',
        consentBody({ subject: { type: 'child', nhsNumber: validNhsNumberFrom(800_000_000) } }),
        '/subject/nhsNumber',
      ],
      [
        'POST',
        '/v1/consents',
        consentBody({ subject: { type: 'child', nhsNumber: NHS, dateOfBirth: '1899-12-31' } }),
        '/subject/dateOfBirth',
      ],
      ['GET', '/v1/consents?nhsNumber=0000000000', undefined, 'querystring:/nhsNumber'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await sw(method, path, body);
      expectInvalid(t, r, field);
      t.notMatch(
        r.text,
        /0000000000|9999-12-31|0000-01-01|2031-01-01|1899-12-31/,
        `${field}: no value echoed`,
      );
      t.notMatch(r.text, outOfRange);
    }
    const concern = {
      to: CSC,
      child: { type: 'child', nhsNumber: NHS, dateOfBirth: '9999-12-31' },
      categories: ['neglect'],
      summary: 'Attended with untreated injuries.',
      urgency: 'standard',
      consent: { status: 'not_sought', reason: 'Seeking consent could place the child at risk.' },
      referrerContact: { phone: '01234 567890' },
    };
    const others: Array<[string, string, string, unknown, string]> = [
      [GP, 'gp', '/v1/concerns', concern, '/child/dateOfBirth'],
      [
        POLICE,
        'police_officer',
        '/v1/flags/search',
        { subject: { type: 'child', nhsNumber: '0000000000' }, purpose: 's47_enquiry' },
        '/subject/nhsNumber',
      ],
    ];
    for (const [agency, role, path, body, field] of others) {
      const r = await gw.call(agency, role, 'POST', path, body);
      expectInvalid(t, r, field);
      t.notMatch(r.text, /0000000000|9999-12-31/, `${path}: no value echoed`);
    }
    for (const path of [
      `/v1/audit?nhsNumber=${outOfRange}`,
      '/v1/audit/subject-report?nhsNumber=0000000000',
    ]) {
      expectInvalid(t, await gw.call(CSC, 'auditor', 'GET', path), 'querystring:/nhsNumber');
    }
    const example = await gw.call(
      CSC,
      'auditor',
      'GET',
      '/v1/audit/subject-report?nhsNumber=943%20476%205919',
    );
    t.equal(example.status, 200, 'the documented example number stays valid');
  },
);

t.test('HEAD on /v1 routes shows and records nothing; /health keeps HEAD', async (t) => {
  const created = await sw(
    'POST',
    '/v1/requests',
    requestBody({ subject: { type: 'child', nhsNumber: validNhsNumberFrom(971_100_200) } }),
  );
  t.equal(created.status, 201, created.text);
  const id: string = created.json.id;
  const answered = await gw.call(POLICE, 'police_officer', 'POST', `/v1/requests/${id}/response`, {
    data: {
      incidents: {
        items: [
          { date: '2026-10-01', type: 'domestic', role: 'victim', summary: 'Call-out', reference: 'INC-1' },
        ],
      },
    },
  });
  t.equal(answered.status, 200, answered.text);
  const views = async () => {
    await gw.gateway.ledger.flush();
    const rows = await gw.gateway.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ledger_entries WHERE action = 'disclosure.viewed' AND request_id = $1",
      [id],
    );
    return rows[0]?.n ?? -1;
  };
  t.equal(await views(), 0);
  for (const path of [`/v1/requests/${id}`, '/v1/agencies', '/v1/audit']) {
    const head = await sw('HEAD', path);
    t.ok([404, 405].includes(head.status), `HEAD ${path}: ${head.status}`);
    t.match(head.headers['content-type'], /^application\/problem\+json/);
    t.equal(head.text, '', 'no body');
  }
  t.equal(await views(), 0, 'HEAD wrote no disclosure.viewed');
  t.equal((await sw('GET', `/v1/requests/${id}`)).status, 200);
  t.equal(await views(), 1, 'GET does');
  const live = await gw.request('/health/live', { ca: gw.credentials(CSC).ca }, { method: 'HEAD' });
  t.equal(live.status, 200, 'load balancers may still probe /health with HEAD');
});

t.test('a request that arrived whole keeps its keep-alive connection, answered or refused', async (t) => {
  const agent = gw.keepAliveAgent(CSC);
  const sockets = new Set<unknown>();
  agent.on('free', (socket) => sockets.add(socket));
  const post = (token: string) =>
    gw.request('/v1/policies/explain', gw.credentials(CSC), {
      agent,
      headers: { authorization: `Bearer ${token}` },
      body: { to: POLICE, purpose: 's47_enquiry', categories: ['incidents'] },
    });
  for (let i = 0; i < 3; i++) {
    const r = await post(gw.token(CSC, 'social_worker'));
    t.equal(r.status, 200, r.text);
    t.not(r.headers.connection, 'close');
  }
  t.equal(sockets.size, 1, 'three POSTs, one connection');
  const refused = await post('not-a-token');
  t.equal(refused.status, 401);
  t.not(refused.headers.connection, 'close', 'its body had arrived: nothing left to dribble');
  t.equal((await post(gw.token(CSC, 'social_worker'))).status, 200);
  t.equal(sockets.size, 1, 'still one connection (a body still arriving is closed: slow-clients.test.ts)');
});
