import t from 'tap';
import { decide, decideOne, explain } from '../../src/policy/decide.js';
import { stricter } from '../../src/policy/resolve.js';
import { bundleOf } from './fixtures.js';

const base = (over: Record<string, unknown> = {}) => ({
  requesterKind: 'children_social_care',
  role: 'social_worker',
  holderKind: 'police',
  purpose: 's47_enquiry',
  categories: ['incidents'],
  ...over,
});

const permit = (id: string, share: string, more = '') => `id: ${id}
description: d
purposes: [s47_enquiry, s17_assessment]
requester: { agencyKinds: [children_social_care] }
holder: { agencyKinds: [police] }
lawfulBasis: ["basis ${id}"]
consent: not_required
share:
${share}
${more}`;

t.test('default deny', async (t) => {
  const bundle = bundleOf({ 'a.yaml': permit('a', '  incidents: [items.date]') });
  const d = decideOne(bundle, base(), 'convictions');
  t.equal(d.decision, 'deny');
  t.equal(d.code, 'policy_denied');
  t.same(d.ruleIds, []);
  t.same(d.fields, []);
  t.equal(d.consent, null);
  for (const over of [
    { purpose: 'early_help' },
    { requesterKind: 'health', role: 'gp' },
    { holderKind: 'health' },
    { role: 'auditor' },
    { role: 'police_officer' },
    { purpose: 'nonsense' },
  ]) {
    t.equal(decide(bundle, base(over)).categories[0]!.decision, 'deny', JSON.stringify(over));
  }
  t.equal(decideOne(bundle, base(), 'nonsense').decision, 'deny');
  t.match(
    decideOne(bundle, base({ holderKind: 'health' }), 'incidents').message,
    /not held by a health agency/,
  );
});

t.test('several permits unite fields, lawful bases and rule ids', async (t) => {
  const bundle = bundleOf({
    'a.yaml': permit('a', '  incidents: [items.date, items.type]'),
    'b.yaml': permit('b', '  incidents: [items.type, items.summary]\n  convictions: "*"'),
  });
  const d = decideOne(bundle, base(), 'incidents');
  t.equal(d.decision, 'permit');
  t.same(d.ruleIds, ['a', 'b']);
  t.same(d.fields, ['items.date', 'items.type', 'items.summary'], 'catalogue order');
  t.same(d.lawfulBasis, ['basis a', 'basis b']);
  t.same(decideOne(bundle, base(), 'convictions').fields, ['items.date', 'items.offence', 'items.disposal']);
  t.same(decideOne(bundle, base(), 'convictions').ruleIds, ['b']);
  const whole = decide(bundle, base({ categories: ['incidents', 'convictions', 'mappa'] }));
  t.same(whole.granted, ['incidents', 'convictions']);
  t.same(whole.lawfulBasis, ['basis a', 'basis b']);
  t.equal(whole.policyVersion, bundle.version);
});

t.test('any matching deny wins, reported with its rule id', async (t) => {
  const bundle = bundleOf({
    'a.yaml': permit('a', '  incidents: "*"\n  convictions: "*"'),
    'z.yaml': `id: no-incidents
description: d
effect: deny
purposes: [s47_enquiry]
requester: { agencyKinds: [children_social_care], roles: [social_worker] }
holder: { agencyKinds: [police] }
share: { incidents: [items.date] }
`,
  });
  const d = decideOne(bundle, base(), 'incidents');
  t.equal(d.decision, 'deny');
  t.equal(d.code, 'policy_denied');
  t.same(d.ruleIds, ['no-incidents']);
  t.match(d.message, /no-incidents/);
  t.equal(decideOne(bundle, base(), 'convictions').decision, 'permit', 'other categories unaffected');
  t.equal(
    decideOne(bundle, base({ role: 'team_manager' }), 'incidents').decision,
    'permit',
    'deny scoped to a role',
  );
  t.equal(
    decideOne(bundle, base({ purpose: 's17_assessment' }), 'incidents').decision,
    'permit',
    'and a purpose',
  );
  t.equal(
    decideOne(bundle, base({ consent: { incidents: { covered: true } }, override: true }), 'incidents')
      .decision,
    'deny',
    'consent and override do not beat a deny',
  );
});

t.test('"*" expands to concrete paths; list groups expand', async (t) => {
  const bundle = bundleOf({ 'a.yaml': permit('a', '  incidents: "*"\n  domestic_abuse: [items]') });
  t.same(decideOne(bundle, base(), 'incidents').fields, [
    'items.date',
    'items.type',
    'items.role',
    'items.summary',
    'items.reference',
  ]);
  t.same(decideOne(bundle, base(), 'domestic_abuse').fields, [
    'items.date',
    'items.riskLevel',
    'items.marac',
    'items.summary',
  ]);
});

t.test('roles: absent means the practice roles of the kind; listed roles limit', async (t) => {
  const bundle = bundleOf({
    'a.yaml': permit('a', '  incidents: "*"'),
    'b.yaml': `id: b
description: d
purposes: [mappa_risk_assessment]
requester: { agencyKinds: [police, probation], roles: [public_protection_officer, mappa_coordinator, auditor] }
holder: { agencyKinds: [police] }
lawfulBasis: [x]
consent: not_required
share: { intelligence: "*" }
`,
  });
  for (const role of ['social_worker', 'team_manager', 'mash_officer']) {
    t.equal(decideOne(bundle, base({ role }), 'incidents').decision, 'permit', role);
  }
  for (const role of ['auditor', 'agency_admin']) {
    t.equal(decideOne(bundle, base({ role }), 'incidents').decision, 'deny', role);
  }
  const m = { purpose: 'mappa_risk_assessment' };
  t.equal(
    decideOne(
      bundle,
      base({ ...m, requesterKind: 'police', role: 'public_protection_officer' }),
      'intelligence',
    ).decision,
    'permit',
  );
  t.equal(
    decideOne(bundle, base({ ...m, requesterKind: 'probation', role: 'mappa_coordinator' }), 'intelligence')
      .decision,
    'permit',
  );
  t.equal(
    decideOne(bundle, base({ ...m, requesterKind: 'police', role: 'police_officer' }), 'intelligence')
      .decision,
    'deny',
  );
  t.equal(
    decideOne(bundle, base({ ...m, requesterKind: 'police', role: 'auditor' }), 'intelligence').decision,
    'permit',
    'listed common role',
  );
  t.equal(
    decideOne(bundle, base({ ...m, requesterKind: 'police', role: 'mappa_coordinator' }), 'intelligence')
      .decision,
    'deny',
    'a role of another kind never matches',
  );
});

const consentBundle = () =>
  bundleOf({
    'free.yaml': permit('free', '  incidents: [items.date]'),
    'needs.yaml': `id: needs
description: d
purposes: [s47_enquiry, s17_assessment]
requester: { agencyKinds: [children_social_care] }
holder: { agencyKinds: [police] }
lawfulBasis: [consented]
consent: required
allowOverride: true
respondWithin: { workingDays: 5 }
share: { incidents: [items.summary], convictions: "*" }
`,
    'strict.yaml': `id: strict
description: d
purposes: [s17_assessment]
requester: { agencyKinds: [children_social_care] }
holder: { agencyKinds: [police] }
lawfulBasis: [strict]
consent: required
allowOverride: false
share: { bail_conditions: "*" }
`,
  });

t.test('consent: required and covered', async (t) => {
  const b = consentBundle();
  const d = decideOne(b, base({ consent: { convictions: { covered: true } } }), 'convictions');
  t.equal(d.decision, 'permit');
  t.equal(d.consent, 'required');
  t.same(d.consentStatus, { status: 'given', basis: 'consent' });
  t.same(d.respondWithin, { workingDays: 5 });
  t.ok(d.allowOverride);
});

t.test('consent: required and missing, refused, or overridden', async (t) => {
  const b = consentBundle();
  const missing = decideOne(b, base(), 'convictions');
  t.equal(missing.decision, 'deny');
  t.equal(missing.code, 'consent_required');
  t.same(missing.ruleIds, ['needs']);
  t.same(missing.consentStatus, { status: 'missing', basis: 'none' });
  t.equal(missing.consent, 'required');
  t.match(missing.message, /an override is allowed/);

  const refused = decideOne(b, base({ consent: () => ({ covered: false, refused: true }) }), 'convictions');
  t.equal(refused.code, 'consent_required');
  t.equal(refused.consentStatus?.status, 'refused');

  const overridden = decideOne(b, base({ override: true }), 'convictions');
  t.equal(overridden.decision, 'permit');
  t.same(overridden.consentStatus, { status: 'overridden', basis: 'override' });

  const s17 = base({ purpose: 's17_assessment', override: true });
  const notAllowed = decideOne(b, s17, 'bail_conditions');
  t.equal(notAllowed.decision, 'deny', 'the rule does not allow an override');
  t.equal(notAllowed.code, 'consent_required');
  t.notOk(notAllowed.allowOverride);
  t.match(notAllowed.message, /does not allow an override/);
  t.equal(
    decideOne(b, { ...s17, consent: { bail_conditions: { covered: true } } }, 'bail_conditions').decision,
    'permit',
  );
});

t.test('consent gates each rule: not_required rules contribute whatever the consent state', async (t) => {
  const b = consentBundle();
  const without = decideOne(b, base(), 'incidents');
  t.equal(without.decision, 'permit');
  t.same(without.fields, ['items.date'], 'only the consent-free rule');
  t.same(without.ruleIds, ['free']);
  t.equal(without.consent, 'not_required');
  t.same(without.consentStatus, { status: 'not_required', basis: 'lawful basis without consent' });

  const refused = decideOne(
    b,
    base({ consent: { incidents: { covered: false, refused: true } } }),
    'incidents',
  );
  t.equal(refused.decision, 'permit');
  t.same(refused.consentStatus, { status: 'refused_not_required', basis: 'lawful basis without consent' });

  const given = decideOne(b, base({ consent: { incidents: { covered: true } } }), 'incidents');
  t.same(given.fields, ['items.date', 'items.summary'], 'consent unlocks the consent rule too');
  t.same(given.ruleIds, ['free', 'needs']);
  t.same(given.lawfulBasis, ['basis free', 'consented']);
  t.equal(given.consentStatus?.status, 'given');

  const overridden = decideOne(b, base({ override: true }), 'incidents');
  t.same(overridden.fields, ['items.date', 'items.summary']);
  t.equal(overridden.consentStatus?.status, 'overridden');
});

t.test('respondWithin: the strictest among contributing permits', async (t) => {
  const mk = (id: string, within: string) =>
    permit(id, '  incidents: [items.date]', `respondWithin: ${within}`);
  let b = bundleOf({ 'a.yaml': mk('a', '{ workingDays: 5 }'), 'b.yaml': mk('b', '{ workingDays: 2 }') });
  t.same(decideOne(b, base(), 'incidents').respondWithin, { workingDays: 2 });
  b = bundleOf({ 'a.yaml': mk('a', '{ workingDays: 1 }'), 'b.yaml': mk('b', '{ hours: 4 }') });
  t.same(decideOne(b, base(), 'incidents').respondWithin, { hours: 4 });
  b = bundleOf({ 'a.yaml': mk('a', '{ workingDays: 1 }'), 'b.yaml': mk('b', '{ hours: 48 }') });
  t.same(decideOne(b, base(), 'incidents').respondWithin, { workingDays: 1 });
  b = bundleOf({ 'a.yaml': mk('a', '{ workingDays: 1 }'), 'b.yaml': mk('b', '{ hours: 24 }') });
  t.same(decideOne(b, base(), 'incidents').respondWithin, { hours: 24 }, 'a tie goes to hours');
  b = bundleOf({
    'a.yaml': mk('a', '{ workingDays: 3 }'),
    'b.yaml': permit('b', '  incidents: [items.type]'),
  });
  t.same(
    decideOne(b, base(), 'incidents').respondWithin,
    { workingDays: 3 },
    'a rule without one does not loosen',
  );
  b = bundleOf({ 'b.yaml': permit('b', '  incidents: [items.type]') });
  t.equal(decideOne(b, base(), 'incidents').respondWithin, undefined);
  t.same(stricter({ hours: 30 }, { workingDays: 1 }), { workingDays: 1 });

  const c = bundleOf({
    'a.yaml': mk('a', '{ workingDays: 5 }'),
    'b.yaml': permit('b', '  convictions: "*"', 'respondWithin: { hours: 6 }'),
  });
  t.same(
    decide(c, base({ categories: ['incidents', 'convictions'] })).respondWithin,
    { hours: 6 },
    'across categories',
  );
});

const flagBundle = () =>
  bundleOf({
    'cp.yaml': `id: cp
description: d
purposes: [risk_to_children_check]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [children_social_care] }
lawfulBasis: [x]
consent: not_required
flagTypes: [child_protection_plan]
share: { flags: [flag, contact] }
`,
    'offender.yaml': `id: offender
description: d
purposes: [risk_to_children_check]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [probation, police] }
lawfulBasis: [x]
consent: not_required
flagTypes: [mappa_managed, risk_to_children]
share: { flags: [flag, contact, details.level] }
`,
    'risk-all.yaml': `id: risk-all
description: d
purposes: [risk_to_children_check]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [probation] }
lawfulBasis: [x]
consent: not_required
flagTypes: [risk_to_children]
share: { flags: [details] }
`,
  });

t.test('flags: per flag type fields, by the publishing agency kind', async (t) => {
  const b = flagBundle();
  const q = { requesterKind: 'police', role: 'police_officer', purpose: 'risk_to_children_check' };
  const probation = decideOne(b, { ...q, holderKind: 'probation' }, 'flags');
  t.equal(probation.decision, 'permit');
  t.same(probation.flagTypes, ['mappa_managed', 'risk_to_children']);
  t.same(probation.flagFields, {
    mappa_managed: ['flag', 'details.level', 'contact'],
    risk_to_children: ['flag', 'details', 'contact'],
  });
  t.same(probation.fields, ['flag', 'details', 'contact'], 'details covers details.level');
  const police = decideOne(b, { ...q, holderKind: 'police' }, 'flags');
  t.same(police.flagTypes, ['risk_to_children'], 'police do not publish mappa_managed');
  t.same(police.ruleIds, ['offender']);
  const csc = decideOne(b, { ...q, holderKind: 'children_social_care' }, 'flags');
  t.same(csc.flagFields, { child_protection_plan: ['flag', 'contact'] });
  t.equal(decideOne(b, { ...q, holderKind: 'health' }, 'flags').decision, 'deny');
});

t.test('flags: a deny limited to flag types removes those types only', async (t) => {
  const files = {
    'offender.yaml': `id: offender
description: d
purposes: [risk_to_children_check]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [probation] }
lawfulBasis: [x]
consent: not_required
share: { flags: [flag, contact] }
`,
    'no-mappa.yaml': `id: no-mappa
description: d
effect: deny
purposes: [risk_to_children_check]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [probation] }
flagTypes: [mappa_managed]
share: { flags: "*" }
`,
  };
  const q = {
    requesterKind: 'police',
    role: 'police_officer',
    purpose: 'risk_to_children_check',
    holderKind: 'probation',
  };
  const d = decideOne(bundleOf(files), q, 'flags');
  t.equal(d.decision, 'permit');
  t.same(d.flagTypes, ['risk_to_children']);
  const all = decideOne(
    bundleOf({
      ...files,
      'no-risk.yaml': files['no-mappa.yaml']
        .replace('no-mappa', 'no-risk')
        .replace('[mappa_managed]', '[risk_to_children]'),
    }),
    q,
    'flags',
  );
  t.equal(all.decision, 'deny');
  t.same(all.ruleIds, ['no-mappa', 'no-risk']);
  const whole = decideOne(
    bundleOf({
      ...files,
      'no-mappa.yaml': files['no-mappa.yaml'].replace('flagTypes: [mappa_managed]\n', ''),
    }),
    q,
    'flags',
  );
  t.equal(whole.decision, 'deny', 'a deny without flag types refuses every flag');
});

t.test('decide is pure: same answer twice, results do not share mutable state', async (t) => {
  const b = consentBundle();
  const one = decide(b, base({ categories: ['incidents', 'convictions'] }));
  const two = decide(b, base({ categories: ['incidents', 'convictions'] }));
  t.same(one, two);
  t.throws(() => (one.categories[0]!.fields as string[]).push('x'), 'cached arrays are frozen');
  t.same(decide(b, base({ categories: ['incidents'] })).categories[0]!.fields, ['items.date']);
});

t.test('consent lookups: per-category record or function', async (t) => {
  const b = consentBundle();
  const seen: string[] = [];
  decide(
    b,
    base({
      categories: ['incidents', 'convictions'],
      consent: (c: string) => {
        seen.push(c);
        return undefined;
      },
    }),
  );
  t.same(seen, ['incidents', 'convictions']);
  const d = decide(
    b,
    base({ categories: ['incidents', 'convictions'], consent: { convictions: { covered: true } } }),
  );
  t.same(
    d.categories.map((c) => c.consentStatus?.status),
    ['not_required', 'given'],
  );
});

t.test('explain: per category, plain JSON', async (t) => {
  const b = consentBundle();
  const e = explain(b, base({ categories: ['incidents', 'convictions', 'mappa'] }));
  t.same(Object.keys(e), ['incidents', 'convictions', 'mappa']);
  t.same(e.incidents, {
    decision: 'permit',
    ruleIds: ['free'],
    fields: ['items.date'],
    lawfulBasis: ['basis free'],
    consent: 'not_required',
    consentStatus: { status: 'not_required', basis: 'lawful basis without consent' },
    allowOverride: true,
    message: 'permitted by free',
  });
  t.equal(e.convictions?.code, 'consent_required');
  t.equal(e.mappa?.code, 'policy_denied');
});
