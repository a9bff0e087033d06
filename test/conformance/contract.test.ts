import { createHash, createHmac, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import canonicalizeModule from 'canonicalize';
import t, { type Test } from 'tap';
import YAML from 'yaml';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';

/**
 * Black-box conformance with ../shared/CONTRACT.md, as an external suite would check it: its own policy
 * bundle, only HTTP and its own crypto (RFC 8785 via the `canonicalize` package, RFC 9162 path walk,
 * Ed25519, HMAC), nothing imported from src/.
 */
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;

const CSC = AGENCIES.csc.id;
const CSC2 = AGENCIES.csc2.id;
const GP = AGENCIES.gp.id;
const POLICE = AGENCIES.police.id;
const PROBATION = AGENCIES.probation.id;

const BUNDLE: Record<string, string> = {
  'a.yaml': `id: conf-csc-police-s47
description: Incidents (date and type) and convictions for a s47.
effect: permit
purposes: [s47_enquiry]
requester: { agencyKinds: [children_social_care], roles: [social_worker, team_manager] }
holder: { agencyKinds: [police] }
lawfulBasis: ["UK GDPR Art 6(1)(e)"]
consent: not_required
respondWithin: { hours: 4 }
share:
  incidents: [items.date, items.type]
  convictions: "*"
  intelligence: "*"
`,
  'b.yaml': `id: conf-deny-intel
description: No intelligence for a s47.
effect: deny
purposes: [s47_enquiry]
requester: { agencyKinds: [children_social_care] }
holder: { agencyKinds: [police] }
share:
  intelligence: "*"
`,
  'c.yaml': `- id: conf-health-s17-consent
  description: With consent, attendances and registration.
  purposes: [s17_assessment]
  requester: { agencyKinds: [children_social_care] }
  holder: { agencyKinds: [health] }
  lawfulBasis: ["UK GDPR Art 6(1)(e)", "UK GDPR Art 9(2)(h)"]
  consent: required
  allowOverride: true
  respondWithin: { workingDays: 3 }
  share:
    attendances: [items.date, items.setting]
    registration: "*"
- id: conf-health-s17-noconsent
  description: Missed appointments and the practice name without consent.
  purposes: [s17_assessment]
  requester: { agencyKinds: [children_social_care] }
  holder: { agencyKinds: [health] }
  lawfulBasis: ["UK GDPR Art 6(1)(e)"]
  consent: not_required
  share:
    missed_appointments: "*"
    registration: [practiceName]
- id: conf-probation-s17-no-override
  description: With consent only; no override.
  purposes: [s17_assessment]
  requester: { agencyKinds: [children_social_care] }
  holder: { agencyKinds: [probation] }
  lawfulBasis: ["UK GDPR Art 6(1)(e)"]
  consent: required
  allowOverride: false
  share:
    risk_of_serious_harm: [level]
`,
  'd.yaml': `id: conf-police-csc-household
description: Household members' names and relationships for a strategy discussion.
purposes: [strategy_discussion]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [children_social_care] }
lawfulBasis: ["DPA 2018 Part 3"]
consent: not_required
share:
  household: [members.name, members.relationship]
`,
};

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const sha256 = (...parts: Array<Buffer | string>) =>
  createHash('sha256')
    .update(Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))))
    .digest();
const sorted = (o: object) => Object.keys(o).sort();

function problemShape(t: Test, res: { status: number; headers: Record<string, unknown>; json: Json }) {
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, 'problem content type');
  for (const k of ['type', 'title', 'status', 'detail', 'code', 'requestId']) t.ok(k in res.json, `has ${k}`);
  t.equal(res.json.status, res.status, 'status field equals the HTTP status');
  t.equal(res.json.requestId, res.headers['x-request-id'], 'requestId equals x-request-id');
}

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
type Json = any;

t.test('contract conformance with an own bundle (postgres)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-conf-policies-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [f, text] of Object.entries(BUNDLE)) writeFileSync(path.join(dir, f), text);
  const gw = await startTestGateway(t, { backend: 'postgres', env: { SGW_POLICIES_DIR: dir } });
  const call = (agency: string, role: string, method: string, p: string, body?: unknown) =>
    gw.call(agency, role, method, p, body);
  const nhs = '9434765919';
  const child = { type: 'child', nhsNumber: '943 476 5919' };

  t.test('GET /v1/policies: version is the SHA-256 of the canonical bundle', async (t) => {
    const r = await call(CSC, 'social_worker', 'GET', '/v1/policies');
    t.equal(r.status, 200);
    t.same(sorted(r.json), ['loadedAt', 'rules', 'version']);
    t.match(r.json.loadedAt, RFC3339_UTC);
    for (const rule of r.json.rules) t.same(sorted(rule), ['description', 'effect', 'id']);
    t.same(r.json.rules.map((x: Json) => x.id).sort(), [
      'conf-csc-police-s47',
      'conf-deny-intel',
      'conf-health-s17-consent',
      'conf-health-s17-noconsent',
      'conf-police-csc-household',
      'conf-probation-s17-no-override',
    ]);
    // As docs/policy.md defines it: [{ file, content }] over the sorted files, content = the file's documents.
    const files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    const hashed = files.map((file) => ({
      file,
      content: YAML.parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((d) => d.toJS()),
    }));
    t.equal(r.json.version, sha256(canonicalize(hashed)).toString('hex'));
  });

  let requestId = '';
  t.test('POST /v1/requests 201 shape, refused items, respondBy in hours', async (t) => {
    const before = Date.now();
    const r = await call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: POLICE,
      subject: child,
      purpose: 's47_enquiry',
      categories: ['incidents', 'intelligence', 'domestic_abuse'],
      justification: 's47 enquiry opened',
      caseReference: 'CONF-1',
    });
    t.equal(r.status, 201, r.text);
    for (const k of ['id', 'status', 'respondBy', 'granted', 'refused', 'lawfulBasis', 'consent'])
      t.ok(k in r.json, `has ${k}`);
    t.type(r.json.id, 'string');
    t.equal(r.json.status, 'awaiting_response');
    t.equal(r.json.caseReference, 'CONF-1', 'caseReference echoed');
    t.match(r.json.respondBy, RFC3339_UTC);
    const due = Date.parse(r.json.respondBy) - before;
    t.ok(due > 4 * 3600_000 - 5000 && due < 4 * 3600_000 + 5000, 'respondBy = receipt + 4 hours');
    t.same(r.json.granted, ['incidents']);
    t.same(r.json.lawfulBasis, ['UK GDPR Art 6(1)(e)']);
    t.same(r.json.consent, { status: 'not_required', basis: 'lawful basis without consent' });
    const refused = Object.fromEntries(r.json.refused.map((x: Json) => [x.category, x]));
    t.same(sorted(refused.intelligence), ['category', 'code', 'message', 'ruleId']);
    t.equal(refused.intelligence.code, 'policy_denied');
    t.equal(refused.intelligence.ruleId, 'conf-deny-intel');
    t.same(sorted(refused.domestic_abuse), ['category', 'code', 'message']);
    requestId = r.json.id;
  });

  t.test('response: released / withheldByPolicy, 409, 404 for a third agency, GET shapes', async (t) => {
    const third = await call(CSC2, 'social_worker', 'GET', `/v1/requests/${requestId}`);
    t.equal(third.status, 404);
    problemShape(t, third);
    t.equal(third.json.code, 'not_found');
    const thirdAnswer = await call(GP, 'gp', 'POST', `/v1/requests/${requestId}/response`, { data: {} });
    t.equal(thirdAnswer.status, 404);

    const answer = {
      data: {
        incidents: {
          items: [
            { date: '2026-10-01', type: 'domestic', role: 'victim', summary: 'Call-out', reference: 'I-1' },
          ],
        },
      },
    };
    const r = await call(POLICE, 'police_officer', 'POST', `/v1/requests/${requestId}/response`, answer);
    t.equal(r.status, 200, r.text);
    t.same(r.json, {
      status: 'responded',
      released: { incidents: ['items.date', 'items.type'] },
      withheldByPolicy: { incidents: ['items.role', 'items.summary', 'items.reference'] },
    });
    const again = await call(POLICE, 'police_officer', 'POST', `/v1/requests/${requestId}/response`, answer);
    t.equal(again.status, 409);
    t.equal(again.json.code, 'conflict');
    const decline = await call(POLICE, 'police_officer', 'POST', `/v1/requests/${requestId}/decline`, {
      reason: 'x',
    });
    t.equal(decline.status, 409);

    const g = await call(CSC, 'social_worker', 'GET', `/v1/requests/${requestId}`);
    t.equal(g.status, 200);
    for (const k of ['id', 'status', 'from', 'to', 'purpose', 'subject', 'granted', 'refused', 'respondBy'])
      t.ok(k in g.json, `GET has ${k}`);
    t.equal(g.json.from, CSC);
    t.equal(g.json.to, POLICE);
    t.equal(g.json.subject.nhsNumber, nhs, 'stored without spaces');
    t.same(g.json.response.data, { incidents: { items: [{ date: '2026-10-01', type: 'domestic' }] } });
    t.match(g.json.response.respondedAt, RFC3339_UTC);
  });

  t.test('decline then answer: 409', async (t) => {
    const c = await call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: POLICE,
      subject: child,
      purpose: 's47_enquiry',
      categories: ['convictions'],
      justification: 'x',
    });
    t.equal(c.status, 201);
    const d = await call(POLICE, 'police_officer', 'POST', `/v1/requests/${c.json.id}/decline`, {
      reason: 'not held',
    });
    t.equal(d.status, 200);
    const a = await call(POLICE, 'police_officer', 'POST', `/v1/requests/${c.json.id}/response`, {
      data: {},
    });
    t.equal(a.status, 409);
    t.equal(a.json.code, 'conflict');
  });

  t.test('members.x paths', async (t) => {
    const c = await call(POLICE, 'police_officer', 'POST', '/v1/requests', {
      to: CSC,
      subject: { type: 'adult', name: { given: 'John', family: 'Smith' }, dateOfBirth: '1980-02-03' },
      purpose: 'strategy_discussion',
      categories: ['household'],
      justification: 'x',
    });
    t.equal(c.status, 201, c.text);
    const r = await call(CSC, 'social_worker', 'POST', `/v1/requests/${c.json.id}/response`, {
      data: { household: { members: [{ name: 'Ann', relationship: 'mother', dateOfBirth: '1985-01-01' }] } },
    });
    t.equal(r.status, 200, r.text);
    t.same(r.json.released, { household: ['members.name', 'members.relationship'] });
    t.same(r.json.withheldByPolicy, { household: ['members.dateOfBirth'] });
  });

  t.test('403 policy_denied and consent_required with reasons', async (t) => {
    const denied = await call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: POLICE,
      subject: child,
      purpose: 's47_enquiry',
      categories: ['intelligence'],
      justification: 'x',
    });
    t.equal(denied.status, 403);
    problemShape(t, denied);
    t.equal(denied.json.code, 'policy_denied');
    t.same(denied.json.reasons, [
      { category: 'intelligence', ruleId: 'conf-deny-intel', message: denied.json.reasons[0].message },
    ]);
    const noConsent = await call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: PROBATION,
      subject: child,
      purpose: 's17_assessment',
      categories: ['risk_of_serious_harm'],
      justification: 'x',
      override: { reason: 'risk_of_significant_harm', justification: 'the rule allows none' },
    });
    t.equal(noConsent.status, 403);
    t.equal(noConsent.json.code, 'consent_required');
    t.equal(noConsent.json.reasons[0].ruleId, 'conf-probation-s17-no-override');
  });

  t.test('consent: required (given / override) and not_required (refused_not_required)', async (t) => {
    const subject = { type: 'child', nhsNumber: '4010232137' };
    const ask = (extra: object = {}) =>
      call(CSC, 'social_worker', 'POST', '/v1/requests', {
        to: GP,
        subject,
        purpose: 's17_assessment',
        categories: ['attendances'],
        justification: 'x',
        ...extra,
      });
    t.equal((await ask()).json.code, 'consent_required');
    const o = await ask({ override: { reason: 'risk_of_significant_harm', justification: 'urgent' } });
    t.equal(o.status, 201, o.text);
    t.same(o.json.consent, { status: 'overridden', basis: 'override' });

    const rec = await call(CSC, 'social_worker', 'POST', '/v1/consents', {
      subject,
      givenBy: { relationship: 'parent', name: 'Parent' },
      status: 'given',
      purposes: ['s17_assessment'],
      agencies: [GP],
      validFrom: '2026-01-01T00:00:00Z',
      evidence: 'signed form',
    });
    t.equal(rec.status, 201, rec.text);
    t.same(sorted(rec.json), ['id']);
    const given = await ask();
    t.equal(given.status, 201, given.text);
    t.same(given.json.consent, { status: 'given', basis: 'consent' });
    const w = await call(GP, 'gp', 'POST', `/v1/consents/${rec.json.id}/withdraw`, {
      reason: 'changed mind',
    });
    t.equal(w.status, 200);
    t.equal(
      (await call(GP, 'gp', 'POST', `/v1/consents/${rec.json.id}/withdraw`, { reason: 'x' })).status,
      409,
    );
    t.equal((await ask()).json.code, 'consent_required', 'withdrawal counts for later decisions');

    const refusal = await call(CSC, 'social_worker', 'POST', '/v1/consents', {
      subject,
      givenBy: { relationship: 'self', name: 'Child' },
      status: 'refused',
      purposes: ['s47_enquiry'],
      validFrom: '2026-01-01T00:00:00Z',
      evidence: 'said no',
    });
    t.equal(refusal.status, 201);
    const s47 = await call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: POLICE,
      subject,
      purpose: 's47_enquiry',
      categories: ['incidents'],
      justification: 'x',
    });
    t.equal(s47.status, 201);
    t.same(s47.json.consent, { status: 'refused_not_required', basis: 'lawful basis without consent' });
  });

  t.test('POST /v1/policies/explain', async (t) => {
    const r = await call(CSC, 'social_worker', 'POST', '/v1/policies/explain', {
      to: GP,
      purpose: 's17_assessment',
      categories: ['registration', 'medications'],
    });
    t.equal(r.status, 200, r.text);
    for (const k of ['decision', 'ruleIds', 'fields', 'lawfulBasis', 'consent']) {
      t.ok(k in r.json.registration, `registration has ${k}`);
      t.ok(k in r.json.medications, `medications has ${k}`);
    }
    t.equal(r.json.registration.decision, 'permit');
    t.same(
      r.json.registration.fields,
      ['practiceName'],
      'without consent, only the consent-free rule applies',
    );
    t.equal(r.json.medications.decision, 'deny');
  });

  t.test('400 / 401 / 403 / 413 / 415 problem details', async (t) => {
    const bad = await call(CSC, 'social_worker', 'POST', '/v1/requests', { to: POLICE });
    t.equal(bad.status, 400);
    problemShape(t, bad);
    t.equal(bad.json.code, 'validation_failed');
    for (const e of bad.json.errors) t.same(sorted(e), ['message', 'path']);
    const noCert = await gw.request('/v1/agencies', { ca: gw.credentials(CSC).ca });
    t.equal(noCert.status, 401);
    t.equal(noCert.json.code, 'unauthenticated');
    t.ok(noCert.headers['x-request-id']);
    const auditor = await call(CSC, 'auditor', 'POST', '/v1/requests', {});
    t.equal(auditor.status, 403);
    t.equal(auditor.json.code, 'forbidden');
    const notJson = await gw.request('/v1/requests', gw.credentials(CSC), {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.token(CSC, 'social_worker')}`, 'content-type': 'text/plain' },
      rawBody: 'hello',
    });
    t.equal(notJson.status, 415);
    t.equal(notJson.json.code, 'unsupported_media_type');
    const big = await gw.request('/v1/requests', gw.credentials(CSC), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gw.token(CSC, 'social_worker')}`,
        'content-type': 'application/json',
      },
      rawBody: JSON.stringify({ justification: 'a'.repeat(300 * 1024) }),
    });
    t.equal(big.status, 413);
    t.equal(big.json.code, 'payload_too_large');
  });

  t.test('ledger: entry shape, keyed subjectRef, filters, cursor, checkpoint, inclusion proof', async (t) => {
    const secret = Buffer.from(
      readFileSync(path.join(gw.certsDir, 'subject-hmac.key'), 'utf8').trim(),
      'hex',
    );
    const ref = createHmac('sha256', secret).update(`nhs:${nhs}`).digest('hex');
    let page: Json;
    for (let i = 0; i < 50; i++) {
      page = await call(CSC, 'auditor', 'GET', `/v1/audit?nhsNumber=${nhs}&limit=500`);
      if (page.json.entries.some((e: Json) => e.action === 'response.released')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(page.status, 200);
    const entries: Json[] = page.json.entries;
    const actions = new Set(entries.map((e) => e.action));
    for (const a of ['request.created', 'request.refused', 'response.released', 'disclosure.viewed'])
      t.ok(actions.has(a), `has ${a}`);
    for (const e of entries) {
      for (const k of [
        'seq',
        'id',
        'at',
        'action',
        'actor',
        'subjectRef',
        'decision',
        'ruleIds',
        'policyVersion',
      ])
        t.ok(k in e, `entry ${e.seq} has ${k}`);
      t.ok(e.subjectRefs.includes(ref), 'subjectRef is HMAC-SHA-256 of the identifier');
      t.notOk(JSON.stringify(e).includes(nhs), 'no plaintext NHS number');
      t.match(e.at, RFC3339_UTC);
      t.same(sorted(e.actor), ['agency', 'role', 'sub']);
    }
    const released = entries.find((e) => e.action === 'response.released');
    t.same(released.fields, { incidents: ['items.date', 'items.type'] });
    t.equal(released.caseReference, 'CONF-1');

    const first = await call(CSC, 'auditor', 'GET', '/v1/audit?limit=2');
    t.equal(first.json.entries.length, 2);
    t.type(first.json.nextCursor, 'string');
    const second = await call(CSC, 'auditor', 'GET', `/v1/audit?limit=2&cursor=${first.json.nextCursor}`);
    t.ok(second.json.entries[0].seq > first.json.entries[1].seq, 'the cursor continues');
    const byAction = await call(CSC, 'auditor', 'GET', '/v1/audit?action=request.refused');
    t.ok(byAction.json.entries.length > 0);
    t.ok(byAction.json.entries.every((e: Json) => e.action === 'request.refused'));
    const other = await call(CSC2, 'auditor', 'GET', '/v1/audit');
    t.same(other.json.entries, [], 'another agency sees none of it');

    // keys: no client certificate needed
    const keys = await gw.request('/v1/audit/keys', { ca: gw.credentials(CSC).ca });
    t.equal(keys.status, 200);
    let cp: Json;
    for (let i = 0; i < 50; i++) {
      cp = (await call(CSC, 'auditor', 'GET', '/v1/audit/checkpoint')).json;
      if (cp.treeSize >= released.seq) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.same(sorted(cp), ['keyId', 'rootHash', 'signature', 'timestamp', 'treeSize']);
    t.match(cp.timestamp, RFC3339_UTC);
    const key = keys.json.find((k: Json) => k.keyId === cp.keyId);
    t.equal(key.alg, 'Ed25519');
    const text = `sgw-checkpoint\n${gw.config.gatewayId}\n${cp.treeSize}\n${cp.rootHash}\n${cp.timestamp}\n`;
    t.ok(
      verify(null, Buffer.from(text), createPublicKey(key.publicKeyPem), Buffer.from(cp.signature, 'base64')),
    );

    const proof = (
      await call(CSC, 'auditor', 'GET', `/v1/audit/entries/${released.seq}/proof?treeSize=${cp.treeSize}`)
    ).json;
    t.same(sorted(proof), ['auditPath', 'leafHash', 'leafIndex', 'treeSize']);
    const { hash, ...rest } = released;
    const canonical = canonicalize(rest);
    t.equal(sha256(released.prevHash, canonical).toString('hex'), hash, 'chain hash');
    const leaf = sha256(Buffer.from([0]), canonical);
    t.equal(leaf.toString('hex'), proof.leafHash, 'leaf hash');
    // RFC 9162 2.1.3.2
    let fn = proof.leafIndex;
    let sn = proof.treeSize - 1;
    let r = leaf;
    for (const h of proof.auditPath as string[]) {
      const p = Buffer.from(h, 'hex');
      if ((fn & 1) === 1 || fn === sn) {
        r = sha256(Buffer.from([1]), p, r);
        while ((fn & 1) === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else {
        r = sha256(Buffer.from([1]), r, p);
      }
      fn >>= 1;
      sn >>= 1;
    }
    t.equal(sn, 0);
    t.equal(r.toString('hex'), cp.rootHash, 'the inclusion proof reaches the signed root');
  });
});
