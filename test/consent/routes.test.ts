import t from 'tap';
import { consentCoverage } from '../../src/consent/index.js';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';

/**
 * The consent routes (contract section 8) over real HTTPS through the identity wall, on both backends:
 * record, read, withdraw; validation; roles; the ledger entries and outbox events they write; and
 * failing closed when the ledger cannot record.
 */
const CSC = AGENCIES.csc.id;
const CSC2 = AGENCIES.csc2.id;
const GP = AGENCIES.gp.id;
const POLICE = AGENCIES.police.id;
const PROBATION = AGENCIES.probation.id;

const NHS = '9434765919';
const NHS_SPACED = '943 476 5919';
const NHS_BAD_CHECK = '943 476 5918';
const NHS_OTHER = '4010232137';
const NHS_FUTURE = '4857773457';
const NHS_DATES = '9876543210';
const NHS_FAILING = '9990000018';
const NHS_NOTHING = '9990000026';
const NHS_RACE = '9990000034';
const PNC = '2001/0012345X';

const CHILD = {
  type: 'child',
  nhsNumber: NHS_SPACED,
  name: { given: 'Sam', family: 'Example' },
  dateOfBirth: '2019-05-04',
};

const consentBody = (over: Record<string, unknown> = {}) => ({
  subject: CHILD,
  givenBy: { relationship: 'parent', name: 'Jo Example' },
  status: 'given',
  purposes: ['early_help', 's17_assessment'],
  agencies: [GP, POLICE],
  categories: ['registration', 'attendances'],
  validFrom: '2026-01-01T00:00:00Z',
  evidence: 'Signed consent form, scanned to the case file.',
  ...over,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Personal data of the fixtures that must appear in no error body and no ledger entry. */
const PERSONAL = ['9434765919', '943 476 5919', '9434765918', '943 476 5918', 'Sam', 'Example', '2019-05-04'];

interface Entry {
  action: string;
  actor: { agency: string; sub: string; role: string };
  counterpart?: string;
  subjectRef: string;
  subjectRefs: string[];
  purpose?: string;
  consent?: string;
  decision: string;
  ruleIds: string[];
  policyVersion: string;
  categories?: string[];
  counterparts?: string[];
  consentId?: string;
}

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`consent routes (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const { db, ledger } = gw.gateway;
    const sw = (method: string, path: string, body?: unknown) =>
      gw.call(CSC, 'social_worker', method, path, body);
    const audit = async (agency: string, query: string): Promise<Entry[]> => {
      await ledger.flush();
      const r = await gw.call(agency, 'auditor', 'GET', `/v1/audit?limit=500&${query}`);
      t.equal(r.status, 200, r.text);
      return r.json.entries;
    };
    const countRows = async (sql: string, params: unknown[] = []) =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0]?.n;
    const policyVersion = (await sw('GET', '/v1/policies')).json.version as string;
    t.match(policyVersion, /^[0-9a-f]{64}$/);

    let consentId = '';
    let pncConsentId = '';

    t.test('record: 201 with an id only', async (t) => {
      const r = await sw('POST', '/v1/consents', consentBody());
      t.equal(r.status, 201, r.text);
      t.same(Object.keys(r.json), ['id']);
      t.match(r.json.id, UUID);
      t.equal(r.headers.location, `/v1/consents/${r.json.id}`);
      consentId = r.json.id;

      const adult = await gw.call(PROBATION, 'probation_officer', 'POST', '/v1/consents', {
        subject: { type: 'adult', pncId: '2001/0012345x' },
        givenBy: { relationship: 'self', name: 'Alex Example' },
        status: 'refused',
        purposes: ['early_help'],
        validFrom: '2026-01-01T00:00:00+01:00',
        validTo: '2027-01-01T00:00:00Z',
        evidence: 'Declined at supervision meeting.',
      });
      t.equal(adult.status, 201, adult.text);
      pncConsentId = adult.json.id;
      t.not(pncConsentId, consentId);
    });

    t.test('list by NHS number, with or without spaces', async (t) => {
      for (const q of [NHS, NHS_SPACED]) {
        const r = await gw.call(GP, 'gp', 'GET', `/v1/consents?nhsNumber=${encodeURIComponent(q)}`);
        t.equal(r.status, 200, r.text);
        t.equal(r.json.length, 1, q);
        const c = r.json[0];
        // A named agency is a party to the consent and sees the whole record.
        t.same(c, {
          id: consentId,
          subject: { ...CHILD, nhsNumber: NHS },
          givenBy: { relationship: 'parent', name: 'Jo Example' },
          status: 'given',
          purposes: ['early_help', 's17_assessment'],
          agencies: [GP, POLICE],
          categories: ['registration', 'attendances'],
          validFrom: '2026-01-01T00:00:00.000Z',
          evidence: 'Signed consent form, scanned to the case file.',
          recordedBy: { agency: CSC },
          recordedAt: c.recordedAt,
          active: true,
        });
        t.match(c.recordedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        t.ok(Math.abs(Date.parse(c.recordedAt) - Date.now()) < 60_000, 'recorded just now');
      }
      const own = await sw('GET', `/v1/consents?nhsNumber=${NHS}`);
      t.same(own.json[0].givenBy, { relationship: 'parent', name: 'Jo Example' }, 'the recorder sees all');
      t.equal(own.json[0].evidence, 'Signed consent form, scanned to the case file.');
      const outsider = await gw.call(PROBATION, 'probation_officer', 'GET', `/v1/consents?nhsNumber=${NHS}`);
      t.equal(outsider.status, 200);
      t.same(outsider.json, [], 'an agency the consent does not concern sees nothing of it');
      const none = await sw('GET', `/v1/consents?nhsNumber=${NHS_OTHER}`);
      t.equal(none.status, 200);
      t.same(none.json, []);
    });

    t.test(
      'validity as dates: from the start of the first day to the end of the last, in England',
      async (t) => {
        const r = await sw(
          'POST',
          '/v1/consents',
          consentBody({
            subject: { type: 'child', nhsNumber: NHS_DATES },
            validFrom: '2026-06-01',
            validTo: '2026-06-30',
          }),
        );
        t.equal(r.status, 201, r.text);
        const [c] = (await sw('GET', `/v1/consents?nhsNumber=${NHS_DATES}`)).json;
        t.equal(c.validFrom, '2026-05-31T23:00:00.000Z', 'midnight BST');
        t.equal(c.validTo, '2026-06-30T23:00:00.000Z', 'the end of 30 June BST');
        t.equal(c.active, false, 'not in force today');
        t.equal((await sw('POST', `/v1/consents/${r.json.id}/withdraw`, { reason: 'tidy up' })).status, 200);
      },
    );

    t.test('list by PNC id (normalised to upper case; times in UTC)', async (t) => {
      for (const q of [PNC, PNC.toLowerCase()]) {
        const r = await gw.call(
          POLICE,
          'police_officer',
          'GET',
          `/v1/consents?pncId=${encodeURIComponent(q)}`,
        );
        t.equal(r.status, 200, r.text);
        t.equal(r.json.length, 1);
        t.match(r.json[0], {
          id: pncConsentId,
          subject: { type: 'adult', pncId: PNC },
          status: 'refused',
          purposes: ['early_help'],
          validFrom: '2025-12-31T23:00:00.000Z',
          validTo: '2027-01-01T00:00:00.000Z',
          recordedBy: { agency: PROBATION },
          active: true,
        });
        t.notOk('agencies' in r.json[0], 'absent agencies stay absent (= all)');
        t.notOk('categories' in r.json[0]);
      }
    });

    t.test('active: not before validFrom, not from validTo on', async (t) => {
      const future = await sw(
        'POST',
        '/v1/consents',
        consentBody({
          subject: { type: 'child', nhsNumber: NHS_FUTURE },
          validFrom: new Date(Date.now() + 86_400_000).toISOString(),
        }),
      );
      t.equal(future.status, 201);
      const expired = await sw(
        'POST',
        '/v1/consents',
        consentBody({
          subject: { type: 'child', nhsNumber: NHS_FUTURE },
          validFrom: '2025-01-01T00:00:00Z',
          validTo: new Date(Date.now() - 1000).toISOString(),
        }),
      );
      t.equal(expired.status, 201);
      const current = await sw(
        'POST',
        '/v1/consents',
        consentBody({
          subject: { type: 'child', nhsNumber: NHS_FUTURE },
          validFrom: '2025-01-01T00:00:00Z',
          validTo: new Date(Date.now() + 86_400_000).toISOString(),
        }),
      );
      t.equal(current.status, 201);
      const r = await sw('GET', `/v1/consents?nhsNumber=${NHS_FUTURE}`);
      const active = Object.fromEntries(
        (r.json as Array<{ id: string; active: boolean }>).map((c) => [c.id, c.active]),
      );
      t.same(active, { [future.json.id]: false, [expired.json.id]: false, [current.json.id]: true });
    });

    t.test('400 validation_failed for every kind of bad input, with no personal data', async (t) => {
      const before = await countRows('consents');
      const cases: Array<[string, Record<string, unknown>, string, RegExp?]> = [
        [
          'bad NHS check digit',
          { subject: { ...CHILD, nhsNumber: NHS_BAD_CHECK } },
          '/subject/nhsNumber',
          /check digit/,
        ],
        [
          'name and date of birth only',
          { subject: { type: 'child', name: CHILD.name, dateOfBirth: CHILD.dateOfBirth } },
          '/subject',
          /nhsNumber or pncId.*exact identifier/,
        ],
        ['no identifier at all', { subject: { type: 'child' } }, '/subject'],
        ['malformed NHS number', { subject: { ...CHILD, nhsNumber: '94347659' } }, '/subject/nhsNumber'],
        ['unknown purpose', { purposes: ['early_help', 'curiosity'] }, '/purposes/1'],
        ['no purpose', { purposes: [] }, '/purposes'],
        ['repeated purpose', { purposes: ['early_help', 'early_help'] }, '/purposes'],
        ['unknown category', { categories: ['registration', 'diary'] }, '/categories/1'],
        ['repeated category', { categories: ['registration', 'registration'] }, '/categories'],
        ['unknown agency', { agencies: [GP, 'nowhere-agency'] }, '/agencies/1', /registered agency/],
        ['repeated agency', { agencies: [GP, GP] }, '/agencies'],
        ['validTo before validFrom', { validTo: '2025-12-31T00:00:00Z' }, '/validTo', /after validFrom/],
        ['validTo equal to validFrom', { validTo: '2026-01-01T00:00:00Z' }, '/validTo'],
        ['validFrom in words', { validFrom: 'next week' }, '/validFrom'],
        ['validFrom not a real date', { validFrom: '2026-02-30' }, '/validFrom', /real date/],
        ['validTo not a real date', { validTo: '2026-13-01' }, '/validTo', /real date/],
        ['validFrom without a time zone', { validFrom: '2026-01-01T00:00:00' }, '/validFrom'],
        ['unknown status', { status: 'maybe' }, '/status'],
        [
          'unknown relationship',
          { givenBy: { relationship: 'neighbour', name: 'X' } },
          '/givenBy/relationship',
        ],
        ['empty giver name', { givenBy: { relationship: 'parent', name: '' } }, '/givenBy/name'],
        ['empty evidence', { evidence: '' }, '/evidence'],
        ['overlong evidence', { evidence: 'x'.repeat(2001) }, '/evidence'],
        ['unknown field', { note: 'hello' }, '/note'],
      ];
      for (const [name, over, path, message] of cases) {
        const r = await sw('POST', '/v1/consents', consentBody(over));
        t.equal(r.status, 400, name);
        t.equal(r.json?.code, 'validation_failed', name);
        t.match(r.headers['content-type'], /^application\/problem\+json/, name);
        const hit = (r.json?.errors ?? []).find((e: { path: string }) => e.path === path);
        t.ok(hit, `${name}: names ${path} in ${r.text}`);
        if (message) t.match(hit?.message, message, name);
        for (const p of PERSONAL) t.notOk(r.text.includes(p), `${name}: does not echo ${p}`);
      }
      const missing = await sw('POST', '/v1/consents', { ...consentBody(), evidence: undefined });
      t.equal(missing.status, 400);
      t.ok(
        missing.json.errors.some((e: { path: string }) => e.path === '/evidence'),
        'a missing field',
      );
      t.equal(await countRows('consents'), before, 'no bad input recorded anything');

      const queries: Array<[string, string]> = [
        ['both identifiers', `nhsNumber=${NHS}&pncId=${encodeURIComponent(PNC)}`],
        ['neither identifier', ''],
        ['bad check digit', `nhsNumber=${encodeURIComponent(NHS_BAD_CHECK)}`],
        ['malformed NHS number', 'nhsNumber=12ab'],
        ['malformed PNC id', 'pncId=abc'],
        ['unknown parameter', `nhsNumber=${NHS}&name=Sam`],
      ];
      for (const [name, q] of queries) {
        const r = await sw('GET', `/v1/consents?${q}`);
        t.equal(r.status, 400, name);
        t.equal(r.json?.code, 'validation_failed', name);
        t.match(r.json?.errors?.[0]?.path, /^querystring:\//, name);
        for (const p of PERSONAL) t.notOk(r.text.includes(p), `${name}: does not echo ${p}`);
      }

      for (const [name, body] of [
        ['no reason', {}],
        ['empty reason', { reason: '' }],
        ['overlong reason', { reason: 'x'.repeat(2001) }],
      ] as const) {
        const r = await sw('POST', `/v1/consents/${consentId}/withdraw`, body);
        t.equal(r.status, 400, name);
        t.equal(r.json.code, 'validation_failed', name);
        t.equal(r.json.errors[0].path, '/reason', name);
      }
      const still = await sw('GET', `/v1/consents?nhsNumber=${NHS}`);
      t.notOk(still.json[0].withdrawn, 'a bad withdrawal withdrew nothing');
    });

    t.test(
      '403 forbidden for auditor and agency_admin; every practice role may use the routes',
      async (t) => {
        for (const role of ['auditor', 'agency_admin']) {
          for (const [method, path, body] of [
            ['POST', '/v1/consents', consentBody()],
            ['GET', `/v1/consents?nhsNumber=${NHS}`, undefined],
            ['POST', `/v1/consents/${consentId}/withdraw`, { reason: 'Asked to.' }],
          ] as const) {
            const r = await gw.call(CSC, role, method, path, body);
            t.equal(r.status, 403, `${role} ${method} ${path}`);
            t.equal(r.json.code, 'forbidden');
          }
        }
        for (const [agency, role] of [
          [CSC2, 'team_manager'],
          [CSC2, 'mash_officer'],
          [GP, 'safeguarding_lead'],
          [POLICE, 'public_protection_officer'],
          [PROBATION, 'mappa_coordinator'],
        ] as const) {
          const r = await gw.call(agency, role, 'GET', `/v1/consents?nhsNumber=${NHS_OTHER}`);
          t.equal(r.status, 200, `${agency} ${role}`);
        }
        const after = await sw('GET', `/v1/consents?nhsNumber=${NHS}`);
        t.equal(after.json.length, 1, 'the forbidden POST recorded nothing');
        t.notOk(after.json[0].withdrawn, 'the forbidden withdrawal withdrew nothing');
      },
    );

    t.test('withdraw: 200, then 409; 404 for unknown or malformed ids; effective at once', async (t) => {
      const coverage = async () =>
        consentCoverage(db, {
          subject: { type: 'child', nhsNumber: NHS },
          purpose: 'early_help',
          requesterAgency: CSC,
          holderAgency: GP,
          categories: ['registration'],
          at: new Date(),
        });
      t.equal((await coverage()).get('registration')?.record?.id, consentId, 'covers before');

      const r = await gw.call(GP, 'gp', 'POST', `/v1/consents/${consentId}/withdraw`, {
        reason: 'Parent withdrew consent at the appointment.',
      });
      t.equal(r.status, 200, r.text);
      t.same(Object.keys(r.json).sort(), ['id', 'status', 'withdrawnAt']);
      t.equal(r.json.id, consentId);
      t.equal(r.json.status, 'withdrawn');
      t.match(r.json.withdrawnAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      t.ok(Math.abs(Date.parse(r.json.withdrawnAt) - Date.now()) < 60_000);
      t.same((await coverage()).get('registration'), {}, 'covers no longer');

      const again = await sw('POST', `/v1/consents/${consentId}/withdraw`, { reason: 'Again.' });
      t.equal(again.status, 409);
      t.equal(again.json.code, 'conflict');

      const listed = await sw('GET', `/v1/consents?nhsNumber=${NHS}`);
      t.same(listed.json[0].withdrawn, {
        at: r.json.withdrawnAt,
        reason: 'Parent withdrew consent at the appointment.',
        byAgency: GP,
      });
      t.equal(listed.json[0].active, false);

      // Two withdrawals at once: exactly one takes.
      const racing = await sw(
        'POST',
        '/v1/consents',
        consentBody({ subject: { type: 'child', nhsNumber: NHS_RACE } }),
      );
      t.equal(racing.status, 201);
      const both = await Promise.all(
        [CSC, POLICE].map((agency) =>
          gw.call(
            agency,
            agency === CSC ? 'social_worker' : 'police_officer',
            'POST',
            `/v1/consents/${racing.json.id}/withdraw`,
            {
              reason: 'Asked to.',
            },
          ),
        ),
      );
      t.same(both.map((x) => x.status).sort(), [200, 409], 'one 200, one 409');

      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id', '1']) {
        const nf = await sw('POST', `/v1/consents/${id}/withdraw`, { reason: 'Asked to.' });
        t.equal(nf.status, 404, id);
        t.equal(nf.json.code, 'not_found', id);
      }
    });

    t.test(
      'consent.withdrawn events: recorder and named agencies, once each, not the withdrawer',
      async (t) => {
        const events = async (id: string) =>
          db.query<{ agency_id: string; data: Record<string, unknown> }>(
            `SELECT agency_id, data FROM outbox WHERE type = 'consent.withdrawn' AND data->>'consentId' = $1
            ORDER BY agency_id`,
            [id],
          );
        // Recorded by CSC naming GP and police, withdrawn by GP (above): CSC and police are told.
        const first = await events(consentId);
        t.same(
          first.map((e) => e.agency_id),
          [CSC, POLICE],
        );
        const listed = await sw('GET', `/v1/consents?nhsNumber=${NHS}`);
        for (const e of first) {
          t.same(e.data, { consentId, withdrawnAt: listed.json[0].withdrawn.at, byAgency: GP });
        }

        // Recorded by CSC naming CSC itself and GP: police, not concerned, cannot withdraw it (404); GP
        // withdraws, and CSC is told once.
        const named = await sw(
          'POST',
          '/v1/consents',
          consentBody({ subject: { type: 'child', nhsNumber: NHS_OTHER }, agencies: [CSC, GP] }),
        );
        t.equal(named.status, 201);
        const stranger = await gw.call(
          POLICE,
          'police_officer',
          'POST',
          `/v1/consents/${named.json.id}/withdraw`,
          { reason: 'Told by the parent.' },
        );
        t.equal(stranger.status, 404);
        t.equal(stranger.json.code, 'not_found');
        const w = await gw.call(GP, 'gp', 'POST', `/v1/consents/${named.json.id}/withdraw`, {
          reason: 'Told by the parent.',
        });
        t.equal(w.status, 200);
        t.same(
          (await events(named.json.id)).map((e) => e.agency_id),
          [CSC],
        );

        // Recorded and withdrawn by CSC, naming no agency: nobody else to tell.
        const own = await sw(
          'POST',
          '/v1/consents',
          consentBody({ subject: { type: 'child', nhsNumber: NHS_OTHER }, agencies: undefined }),
        );
        t.equal(own.status, 201);
        t.equal((await sw('POST', `/v1/consents/${own.json.id}/withdraw`, { reason: 'Done.' })).status, 200);
        t.same(await events(own.json.id), []);
      },
    );

    t.test('ledger: consent.recorded / viewed / withdrawn, subject hashed', async (t) => {
      const [subjectRef] = ledger.subjectRefs({ nhsNumber: NHS });
      const byNhs = `nhsNumber=${NHS}`;

      const recorded = await audit(CSC, `action=consent.recorded&${byNhs}`);
      t.equal(recorded.length, 2, 'one entry per purpose');
      t.same(recorded.map((e) => e.purpose).sort(), ['early_help', 's17_assessment']);
      for (const e of recorded) {
        t.match(e, {
          actor: { agency: CSC, sub: 'social_worker-1', role: 'social_worker' },
          subjectRef,
          consent: 'given',
          decision: 'permit',
          ruleIds: [],
          policyVersion,
          categories: ['registration', 'attendances'],
          counterparts: [GP, POLICE],
        });
        t.notOk('counterpart' in e, 'two other parties: no single counterpart');
        t.match(e.consentId, /^[0-9a-f-]{36}$/, 'names the record');
      }
      for (const party of [GP, POLICE]) {
        t.equal(
          (await audit(party, `action=consent.recorded&${byNhs}`)).length,
          2,
          `every party's auditor sees the record (${party})`,
        );
      }
      t.equal((await audit(PROBATION, `action=consent.recorded&${byNhs}`)).length, 0, 'no party, nothing');

      // Reads: GP read twice and police never read CSC's NHS record; CSC's own reads have no counterpart.
      const viewedByGp = await audit(GP, `action=consent.viewed&${byNhs}`);
      t.equal(viewedByGp.length, 2, 'one entry per read that returned records');
      for (const e of viewedByGp) {
        t.match(e, { actor: { agency: GP, role: 'gp' }, counterpart: CSC, subjectRef, decision: 'permit' });
      }
      const viewedSeenByCsc = await audit(CSC, `action=consent.viewed&${byNhs}`);
      t.equal(
        viewedSeenByCsc.filter((e) => e.actor.agency === GP).length,
        2,
        "the recording agency's auditor sees the GP's reads",
      );
      const ownReads = viewedSeenByCsc.filter((e) => e.actor.agency === CSC);
      t.ok(ownReads.length > 0, 'CSC read its own records too');
      t.ok(
        ownReads.every((e) => !('counterpart' in e)),
        "CSC's own reads name no counterpart",
      );
      t.equal(
        (await audit(POLICE, `action=consent.viewed&${byNhs}`)).length,
        0,
        'police neither read nor recorded it',
      );
      const pncViews = await audit(POLICE, `action=consent.viewed&pncId=${encodeURIComponent(PNC)}`);
      t.equal(pncViews.length, 2, 'both PNC reads, by the PNC ref');
      t.ok(pncViews.every((e) => e.counterpart === PROBATION));
      t.equal(
        await countRows(
          `ledger_entries WHERE action = 'consent.viewed' AND $1 = ANY (subject_refs)`,
          ledger.subjectRefs({ nhsNumber: NHS_OTHER }),
        ),
        0,
        'a read that found nothing is not ledgered',
      );

      const withdrawn = await audit(GP, `action=consent.withdrawn&${byNhs}`);
      t.equal(withdrawn.length, 2, 'one entry per purpose');
      for (const e of withdrawn) {
        t.match(e, {
          actor: { agency: GP, role: 'gp' },
          counterpart: CSC,
          subjectRef,
          consent: 'withdrawn',
          decision: 'permit',
          policyVersion,
          categories: ['registration', 'attendances'],
          counterparts: [CSC, POLICE],
        });
      }
      t.equal((await audit(CSC, `action=consent.withdrawn&${byNhs}`)).length, 2, 'the recorder sees it');
      t.equal((await audit(POLICE, `action=consent.withdrawn&${byNhs}`)).length, 2, 'and the other party');

      for (const e of [...recorded, ...viewedByGp, ...withdrawn]) {
        const text = JSON.stringify(e);
        for (const p of PERSONAL) t.notOk(text.includes(p), `${e.action}: no ${p}`);
      }
      t.equal(
        await countRows(
          `ledger_entries WHERE action LIKE 'consent.%' AND (row_to_json(ledger_entries)::text LIKE '%9434765919%'
             OR row_to_json(ledger_entries)::text LIKE '%Example%')`,
        ),
        0,
        'no stored entry holds the NHS number or the name',
      );
    });

    t.test('fail closed: 503 audit_unavailable when the ledger cannot record', async (t) => {
      const seeded = await sw(
        'POST',
        '/v1/consents',
        consentBody({ subject: { type: 'child', nhsNumber: NHS_FAILING } }),
      );
      t.equal(seeded.status, 201);
      // A test-only fault: the database refuses the ledger write, as a full disk or a bad trigger would.
      await db.query(`CREATE FUNCTION test_refuse_queue() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
      await db.query(
        'CREATE TRIGGER test_refuse_queue BEFORE INSERT ON ledger_queue FOR EACH ROW EXECUTE FUNCTION test_refuse_queue()',
      );
      let dropped = false;
      const drop = async () => {
        if (dropped) return;
        dropped = true;
        await db.query('DROP TRIGGER test_refuse_queue ON ledger_queue');
        await db.query('DROP FUNCTION test_refuse_queue()');
      };
      t.teardown(drop);
      const rowsFor = (nhs: string) => countRows('consents WHERE nhs_number = $1', [nhs]);

      const rec = await sw(
        'POST',
        '/v1/consents',
        consentBody({ subject: { type: 'child', nhsNumber: NHS_FAILING } }),
      );
      t.equal(rec.status, 503);
      t.equal(rec.json.code, 'audit_unavailable');
      t.notMatch(rec.text, /disk full/);
      t.equal(await rowsFor(NHS_FAILING), 1, 'the refused record was not kept');

      const read = await sw('GET', `/v1/consents?nhsNumber=${NHS_FAILING}`);
      t.equal(read.status, 503);
      t.equal(read.json.code, 'audit_unavailable');
      t.notOk(read.text.includes('Signed consent form'), 'nothing disclosed');
      t.notOk(read.text.includes(seeded.json.id), 'not even the id');

      const empty = await sw('GET', `/v1/consents?nhsNumber=${NHS_NOTHING}`);
      t.equal(empty.status, 200, 'a read that finds nothing discloses nothing and needs no entry');
      t.same(empty.json, []);

      const w = await sw('POST', `/v1/consents/${seeded.json.id}/withdraw`, { reason: 'Asked to.' });
      t.equal(w.status, 503);
      t.equal(w.json.code, 'audit_unavailable');
      t.equal(
        await countRows("outbox WHERE type = 'consent.withdrawn' AND data->>'consentId' = $1", [
          seeded.json.id,
        ]),
        0,
        'no event left behind',
      );

      await drop();
      const after = await sw('GET', `/v1/consents?nhsNumber=${NHS_FAILING}`);
      t.equal(after.status, 200);
      t.equal(after.json.length, 1);
      t.notOk(after.json[0].withdrawn, 'the failed withdrawal did not take');
      t.equal(after.json[0].active, true);
    });
  });
}
