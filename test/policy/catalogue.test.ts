import t from 'tap';
import {
  CATEGORIES,
  CATEGORY_NAMES,
  categoriesHeldBy,
  expandPath,
  holds,
  leafPaths,
  validateCategoryPayload,
} from '../../src/policy/catalogue.js';

t.test('every category of contract section 9, with its holder', async (t) => {
  t.same(categoriesHeldBy('health'), [
    'registration',
    'safeguarding_codes',
    'attendances',
    'missed_appointments',
    'relevant_conditions',
    'medications',
  ]);
  t.same(categoriesHeldBy('police'), [
    'incidents',
    'convictions',
    'bail_conditions',
    'domestic_abuse',
    'intelligence',
  ]);
  t.same(categoriesHeldBy('probation'), [
    'mappa',
    'risk_of_serious_harm',
    'offence_summary',
    'licence_conditions',
    'current_address',
    'supervising_officer',
  ]);
  t.same(categoriesHeldBy('children_social_care'), [
    'cp_plan',
    'looked_after',
    'allocated_worker',
    'case_summary',
    'household',
  ]);
  t.equal(CATEGORY_NAMES.length, 23);
  t.ok(holds('health', 'flags') && holds('police', 'flags'), 'the flag index answers for every kind');
  for (const c of CATEGORY_NAMES) {
    t.equal((CATEGORIES[c].schema as { additionalProperties: unknown }).additionalProperties, false, c);
  }
});

t.test('field paths', async (t) => {
  t.same(leafPaths('registration'), ['practiceCode', 'practiceName', 'registeredSince', 'usualGp']);
  t.same(leafPaths('household'), ['members.name', 'members.relationship', 'members.dateOfBirth']);
  t.same(leafPaths('safeguarding_codes'), ['codes', 'notes']);
  t.same(leafPaths('flags'), ['flag', 'details', 'contact']);
  t.same(expandPath('attendances', 'items'), [
    'items.date',
    'items.setting',
    'items.reason',
    'items.outcome',
  ]);
  t.same(expandPath('flags', 'details.level'), ['details.level']);
  t.equal(expandPath('flags', 'contact.team'), undefined);
  t.equal(expandPath('flags', 'details.'), undefined);
  t.equal(expandPath('registration', 'items.date'), undefined);
  t.equal(expandPath('attendances', 'date'), undefined);
});

const valid: Record<string, unknown> = {
  registration: {
    practiceCode: 'A81001',
    practiceName: 'Riverside',
    registeredSince: '2019-04-01',
    usualGp: 'Dr A',
  },
  safeguarding_codes: { codes: ['XaMxN'], notes: 'n' },
  attendances: {
    items: [{ date: '2026-01-03T10:15:00Z', setting: 'out_of_hours', reason: 'r', outcome: 'o' }],
  },
  missed_appointments: { items: [{ date: '2026-01-03', service: 'health visitor' }] },
  relevant_conditions: { items: [{ condition: 'c', relevance: 'r' }] },
  medications: { items: [{ name: 'm', since: '2025-01-01' }] },
  incidents: {
    items: [{ date: '2026-01-01', type: 'assault', role: 'victim', summary: 's', reference: 'INC-1' }],
  },
  convictions: { items: [{ date: '2020-01-01', offence: 'o', disposal: 'd' }] },
  bail_conditions: { items: [{ condition: 'no contact', until: '2026-06-01' }] },
  domestic_abuse: { items: [{ date: '2026-01-01', riskLevel: 'high', marac: true, summary: 's' }] },
  intelligence: { summary: 's', grading: '1A1' },
  mappa: { category: 4, level: 3, leadAgency: 'probation', nextReview: '2026-09-01' },
  risk_of_serious_harm: { level: 'very_high', riskTo: ['children', 'staff'], summary: 's' },
  offence_summary: { index: 'i', summary: 's', sentence: 's' },
  licence_conditions: { items: [{ condition: 'c', until: '2027-01-01' }] },
  current_address: { line1: '1 Road', town: 'Town', postcode: 'AB1 2CD', since: '2025-01-01' },
  supervising_officer: { name: 'n', team: 't', phone: '0', email: 'a@b.c' },
  cp_plan: { status: 'active', category: 'neglect', startDate: '2026-01-01' },
  looked_after: { status: 's', legalStatus: 'C2', since: '2025-01-01' },
  allocated_worker: { name: 'n', team: 't', phone: '0', email: 'a@b.c' },
  case_summary: { summary: 's' },
  household: { members: [{ name: 'n', relationship: 'r', dateOfBirth: '2015-01-01' }] },
  flags: { flag: 'mappa_managed', details: { level: 2 }, contact: { team: 't' } },
};

t.test('valid payloads of every category pass', async (t) => {
  t.same(Object.keys(valid).sort(), [...CATEGORY_NAMES].sort());
  for (const [c, p] of Object.entries(valid)) t.same(validateCategoryPayload(c, p), [], c);
});

t.test('invalid payloads fail with pointers, never echoing values', async (t) => {
  const errs = (c: string, p: unknown) => validateCategoryPayload(c, p);
  t.same(errs('registration', { practiceCode: 'A', secret: 'Jane Doe' }), [
    { path: '/secret', message: 'is not a field of this category' },
  ]);
  t.same(errs('attendances', { items: [{ setting: 'hospital' }] }), [
    {
      path: '/items/0/setting',
      message: 'must be one of: emergency_department, urgent_care, gp, walk_in, out_of_hours',
    },
  ]);
  t.same(errs('incidents', { items: [{ role: 'bystander' }] })[0]?.path, '/items/0/role');
  t.same(errs('incidents', { items: [{ extra: 1 }] })[0], {
    path: '/items/0/extra',
    message: 'is not a field of this category',
  });
  t.same(errs('domestic_abuse', { items: [{ riskLevel: 'low' }] })[0]?.path, '/items/0/riskLevel');
  t.same(errs('domestic_abuse', { items: [{ marac: 'yes' }] })[0]?.path, '/items/0/marac');
  t.same(errs('mappa', { category: 5 })[0]?.path, '/category');
  t.same(errs('mappa', { level: 0 })[0]?.path, '/level');
  t.same(errs('risk_of_serious_harm', { riskTo: ['pets'] })[0]?.path, '/riskTo/0');
  t.same(errs('risk_of_serious_harm', { level: 'extreme' })[0]?.path, '/level');
  t.same(errs('cp_plan', { status: 'pending' })[0]?.path, '/status');
  t.same(errs('household', { members: [{ age: 3 }] })[0]?.path, '/members/0/age');
  t.same(errs('household', {})[0], { path: '/members', message: "must have required property 'members'" });
  t.same(errs('flags', { flag: 'unicorn', contact: { team: 't' } })[0]?.path, '/flag');
  t.same(errs('flags', { flag: 'mappa_managed' })[0]?.path, '/contact');
  t.same(errs('registration', { registeredSince: 'yesterday' })[0]?.path, '/registeredSince');
  t.same(errs('registration', 'a string')[0]?.path, '/');
  t.same(errs('gossip', {}), [{ path: '/', message: 'unknown category' }]);
  const all = JSON.stringify(errs('registration', { practiceCode: 'x'.repeat(30), name: 'Jane Doe' }));
  t.notMatch(all, /Jane|xxxx/, 'no value is echoed');
});
