import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import t from 'tap';
import { registerProblemHandling } from '../../src/http/problem.js';
import type { AgencyKind, Practitioner } from '../../src/identity/roles.js';
import { policyRoutes } from '../../src/policy/routes.js';
import { PolicyStore } from '../../src/policy/store.js';

const shipped = new URL('../../policies', import.meta.url).pathname;
const silent = { info() {}, warn() {}, error() {} };

const AGENCIES: Record<string, AgencyKind> = {
  'police-county': 'police',
  'gp-riverside': 'health',
  'probation-region': 'probation',
  'csc-north': 'children_social_care',
};

async function build(t: { teardown(fn: () => unknown): void }) {
  const policies = await PolicyStore.open(shipped, { logger: silent, pollMs: 60_000 });
  // The gateway's validator settings (src/app.ts): unknown properties are refused, not stripped.
  const app = Fastify({
    ajv: {
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  registerProblemHandling(app);
  // Stands in for the identity wall: the caller is named by test headers.
  app.addHook('onRequest', async (request) => {
    const practitioner: Practitioner = {
      agency: String(request.headers['x-test-agency'] ?? 'csc-north'),
      kind: (request.headers['x-test-kind'] as AgencyKind | undefined) ?? 'children_social_care',
      role: (request.headers['x-test-role'] as Practitioner['role'] | undefined) ?? 'social_worker',
      sub: 'sw-1',
      name: 'A Practitioner',
      jti: 'j',
    };
    request.practitioner = practitioner;
  });
  await app.register(policyRoutes, { policies, agencyKind: (id: string) => AGENCIES[id] });
  t.teardown(async () => {
    policies.close();
    await app.close();
  });
  return { app, policies };
}

t.test('GET /v1/policies lists the bundle in force', async (t) => {
  const { app, policies } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/v1/policies' });
  t.equal(res.statusCode, 200);
  const body = res.json() as { version: string; loadedAt: string; rules: Array<Record<string, unknown>> };
  t.equal(body.version, policies.version);
  t.equal(res.headers['x-policy-version'], policies.version);
  t.equal(body.loadedAt, policies.loadedAt.toISOString());
  t.ok(body.rules.length >= 20);
  for (const r of body.rules) t.same(Object.keys(r).sort(), ['description', 'effect', 'id']);
  t.ok(body.rules.some((r) => r.id === 'deny-medications-s47' && r.effect === 'deny'));
});

t.test('POST /v1/policies/explain answers for the caller against the holder agency', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/policies/explain',
    payload: { to: 'gp-riverside', purpose: 's47_enquiry', categories: ['registration', 'medications'] },
  });
  t.equal(res.statusCode, 200, res.body);
  const body = res.json();
  t.match(body.registration, {
    decision: 'permit',
    ruleIds: ['s47-health'],
    fields: ['practiceCode', 'practiceName', 'registeredSince', 'usualGp'],
    consent: 'not_required',
  });
  t.ok(body.registration.lawfulBasis.includes('DPA 2018 Sch 1 para 18'));
  t.match(body.medications, {
    decision: 'deny',
    code: 'policy_denied',
    ruleIds: ['deny-medications-s47'],
    fields: [],
  });

  const police = await app.inject({
    method: 'POST',
    url: '/v1/policies/explain',
    headers: { 'x-test-kind': 'police', 'x-test-role': 'police_officer', 'x-test-agency': 'police-county' },
    payload: { to: 'probation-region', purpose: 'risk_to_children_check', categories: ['mappa', 'flags'] },
  });
  t.match(police.json(), {
    mappa: {
      decision: 'permit',
      fields: ['category', 'level', 'leadAgency'],
      respondWithin: { workingDays: 2 },
    },
    flags: { decision: 'permit', flagTypes: ['mappa_managed', 'risk_to_children'] },
  });
});

t.test('explain with a hypothetical consent or override', async (t) => {
  const { app } = await build(t);
  const ask = (extra: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/v1/policies/explain',
      payload: {
        to: 'gp-riverside',
        purpose: 's17_assessment',
        categories: ['relevant_conditions'],
        ...extra,
      },
    });
  t.match((await ask({})).json().relevant_conditions, {
    decision: 'deny',
    code: 'consent_required',
    consent: 'required',
  });
  t.match((await ask({ consent: { status: 'given' } })).json().relevant_conditions, {
    decision: 'permit',
    consentStatus: { status: 'given' },
  });
  t.match((await ask({ consent: { status: 'refused' } })).json().relevant_conditions, {
    decision: 'deny',
    consentStatus: { status: 'refused' },
  });
  t.match((await ask({ override: true })).json().relevant_conditions, {
    decision: 'permit',
    consentStatus: { status: 'overridden' },
  });
  // The s17 rules accept an override for risk of significant harm only, given as a reason or in the
  // request's own shape.
  for (const override of [
    'risk_of_significant_harm',
    { reason: 'risk_of_significant_harm', justification: 'x' },
  ]) {
    t.match((await ask({ override })).json().relevant_conditions, {
      consentStatus: { status: 'overridden' },
    });
  }
  for (const override of ['prevention_of_crime', { reason: 'prevention_of_crime' }]) {
    t.match((await ask({ override })).json().relevant_conditions, {
      decision: 'deny',
      code: 'consent_required',
    });
  }
});

t.test('unknown holder agency and bad bodies are 400', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/policies/explain',
    payload: { to: 'nobody', purpose: 's47_enquiry', categories: ['incidents'] },
  });
  t.equal(res.statusCode, 400);
  t.equal(res.json().code, 'validation_failed');
  t.same(res.json().errors, [{ path: '/to', message: 'is not an active agency' }]);
  t.equal(res.headers['content-type'], 'application/problem+json');
  for (const payload of [
    { to: 'police-county', purpose: 'gossip', categories: ['incidents'] },
    { to: 'police-county', purpose: 's47_enquiry', categories: ['gossip'] },
    { to: 'police-county', purpose: 's47_enquiry', categories: [] },
    { to: 'police-county', purpose: 's47_enquiry', categories: ['incidents'], extra: 1 },
    { purpose: 's47_enquiry', categories: ['incidents'] },
  ]) {
    const bad = await app.inject({ method: 'POST', url: '/v1/policies/explain', payload });
    t.equal(bad.statusCode, 400, JSON.stringify(payload));
    t.equal(bad.json().code, 'validation_failed');
  }
});
