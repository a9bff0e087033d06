import t from 'tap';
import type { IdentityHashes } from '../../src/exchange/flags/match.js';
import { disclose } from '../../src/exchange/flags/search.js';
import type { StoredFlag } from '../../src/exchange/flags/store.js';
import { bundleOf } from '../policy/fixtures.js';

/**
 * What a search shows of the flags it found (src/exchange/flags/search.ts): pure, over a bundle of its
 * own, so that each rule of disclosure is pinned apart from the HTTP journey.
 */
const bundle = bundleOf({
  'offender.yaml': `id: offender
description: police see offender flags with the level
purposes: [risk_to_children_check]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [probation, police] }
lawfulBasis: ["DPA 2018 Part 3"]
consent: not_required
flagTypes: [mappa_managed, risk_to_children]
share:
  flags: [flag, contact, details.level]
`,
  'child.yaml': `id: child
description: police see child flags without details
purposes: [risk_to_children_check]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [children_social_care] }
lawfulBasis: ["UK GDPR Art 6(1)(e)"]
consent: not_required
share:
  flags: [flag, contact]
`,
  'contact-only.yaml': `id: contact-only
description: a rule that shares who to call but not which flag
purposes: [early_help]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [children_social_care] }
lawfulBasis: ["UK GDPR Art 6(1)(e)"]
consent: not_required
share:
  flags: [contact]
`,
});

const searched: IdentityHashes = { nhs: 'n1', nameDob: 'd1' };
const agencies = { agency: (id: string) => (id === 'probation-a' ? { name: 'Probation A' } : undefined) };
const police = { requesterKind: 'police', role: 'police_officer', purpose: 'risk_to_children_check' };

function flag(over: Partial<StoredFlag>): StoredFlag {
  return {
    id: 'f',
    agencyId: 'probation-a',
    agencyKind: 'probation',
    flag: 'mappa_managed',
    subjectType: 'adult',
    hashes: { nhs: 'n1' },
    details: { level: 2, notes: 'free text' },
    contact: { team: 'MAPPA unit' },
    validFrom: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

t.test('an exact match shows the fields the policy names for the type, and nothing else', async (t) => {
  const d = disclose(police, bundle, searched, [flag({})], agencies);
  t.equal(d.match, 'exact');
  t.same(d.results, [
    {
      flag: 'mappa_managed',
      match: 'exact',
      agency: { id: 'probation-a', name: 'Probation A', kind: 'probation' },
      details: { level: 2 },
      contact: { team: 'MAPPA unit' },
      validFrom: '2025-01-01T00:00:00.000Z',
    },
  ]);
  t.same(d.fields, ['flag', 'details.level', 'contact']);
  t.same(d.shown[0]?.decision.ruleIds, ['offender']);
});

t.test('a possible match is cut to flag and contact', async (t) => {
  const d = disclose(police, bundle, searched, [flag({ hashes: { nameDob: 'd1' } })], agencies);
  t.equal(d.match, 'possible');
  t.notOk('details' in (d.results[0] ?? {}));
  t.same(d.fields, ['flag', 'contact']);
});

t.test('what the policy does not cover is not shown, and leaves the answer at none', async (t) => {
  const hidden = [
    flag({ id: 'rso', flag: 'registered_sex_offender', agencyId: 'police-a', agencyKind: 'police' }),
    flag({ id: 'other', hashes: { nhs: 'n2' } }),
  ];
  const d = disclose(police, bundle, searched, hidden, agencies);
  t.same([d.match, d.results, d.shown, d.fields], ['none', [], [], []]);
  const wrongPurpose = disclose({ ...police, purpose: 'early_help' }, bundle, searched, [flag({})], agencies);
  t.equal(wrongPurpose.match, 'none');
});

t.test('a rule that does not share `flag` shows nothing: a result must say what it is', async (t) => {
  const csc = flag({ flag: 'child_protection_plan', agencyId: 'csc-a', agencyKind: 'children_social_care' });
  const d = disclose({ ...police, purpose: 'early_help' }, bundle, searched, [csc], agencies);
  t.equal(d.match, 'none');
});

t.test('exact before possible, then by flag type; an unknown agency is named by its id', async (t) => {
  const d = disclose(
    police,
    bundle,
    searched,
    [
      flag({ id: 'p', flag: 'risk_to_children', hashes: { nameDob: 'd1' }, details: undefined }),
      flag({ id: 'c', flag: 'child_protection_plan', agencyId: 'csc-a', agencyKind: 'children_social_care' }),
      flag({ id: 'm' }),
    ],
    agencies,
  );
  t.same(
    d.shown.map((s) => [s.flag.id, s.match]),
    [
      ['c', 'exact'],
      ['m', 'exact'],
      ['p', 'possible'],
    ],
  );
  t.equal(d.results[0]?.agency.name, 'csc-a');
  t.notOk('details' in (d.results[0] ?? {}), 'the child rule shares no details');
  t.equal(d.match, 'exact');
});
