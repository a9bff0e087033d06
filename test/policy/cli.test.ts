import path from 'node:path';
import t from 'tap';
import { runPolicyCommand } from '../../src/cli/policy.js';
import { rule, tempBundle } from './fixtures.js';

const shipped = new URL('../../policies', import.meta.url).pathname;

async function sgw(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runPolicyCommand(
    argv,
    { stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    shipped,
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('check: the shipped bundle, and the default folder', async (t) => {
  const r = await sgw('check', shipped);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /policy bundle ok: \d+ rules, version [0-9a-f]{64}/);
  t.equal((await sgw('check')).code, 0);
});

t.test('check: lists every error with file:line and exits 1', async (t) => {
  const dir = tempBundle(t, {
    'a.yaml': rule('a', '  gossip: "*"'),
    'b.yaml': rule('b').replace('[s47_enquiry]', '[gossip]'),
  });
  const r = await sgw('check', dir);
  t.equal(r.code, 1);
  t.match(r.err, `${path.join(dir, 'a.yaml')}:10: rule a: unknown category "gossip"`);
  t.match(r.err, `${path.join(dir, 'b.yaml')}:3: rule b: unknown purpose "gossip"`);
  t.match(r.err, /2 error\(s\)/);
  const missing = await sgw('check', path.join(dir, 'nope'));
  t.equal(missing.code, 1);
  t.match(missing.err, /cannot read the policy folder/);
});

t.test('test: the shipped bundle passes its own cases', async (t) => {
  const r = await sgw('test', shipped);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /\d+ passed, 0 failed/);
  t.notMatch(r.out, /rules no case involves/, 'every rule is exercised');
});

const cases = (expect: string) => `cases:
  - name: incidents for a s47
    requester: { kind: children_social_care, role: social_worker }
    holder: police
    purpose: s47_enquiry
    categories: [incidents]
    expect:
      incidents: ${expect}
`;

t.test('test: a failing case names its file, line and what differed', async (t) => {
  const dir = tempBundle(t, {
    'a.yaml': rule('a'),
    'tests/one.yaml': cases('{ decision: permit, fields: [items.date, items.type], ruleIds: [b] }'),
  });
  const r = await sgw('test', dir);
  t.equal(r.code, 1);
  t.match(r.err, `FAIL ${path.join(dir, 'tests', 'one.yaml')}:2 incidents for a s47`);
  t.match(r.err, 'incidents: ruleIds expected [b], got [a]');
  t.match(r.err, 'incidents: fields expected [items.date, items.type], got [items.date]');
  t.match(r.out, '0 passed, 1 failed');
});

t.test('test: a malformed test file, a refused bundle, no tests', async (t) => {
  const dir = tempBundle(t, { 'a.yaml': rule('a'), 'tests/one.yaml': cases('{ decision: perhaps }') });
  const bad = await sgw('test', dir);
  t.equal(bad.code, 1);
  t.match(
    bad.err,
    /one\.yaml:8: cases\.0\.expect\.incidents\.decision: must be equal to one of the allowed values: permit, deny/,
  );
  const refused = await sgw('test', tempBundle(t, { 'a.yaml': rule('a', '  gossip: "*"') }));
  t.equal(refused.code, 1);
  t.match(refused.err, /no test ran/);
  const none = await sgw('test', tempBundle(t, { 'a.yaml': rule('a') }));
  t.equal(none.code, 1);
  t.match(none.err, /cannot read the tests folder/);
  const passing = await sgw(
    'test',
    tempBundle(t, {
      'a.yaml': rule('a'),
      'b.yaml': rule('b').replace('s47_enquiry', 'early_help'),
      'tests/one.yaml': cases('{ decision: permit }'),
    }),
  );
  t.equal(passing.code, 0);
  t.match(passing.out, 'rules no case involves: b');
});

t.test('explain', async (t) => {
  const r = await sgw(
    'explain',
    '--from-kind',
    'children_social_care',
    '--role',
    'social_worker',
    '--to-kind',
    'health',
    '--purpose',
    's47_enquiry',
    '--categories',
    'registration,medications',
  );
  t.equal(r.code, 0, r.err);
  const body = JSON.parse(r.out) as {
    version: string;
    categories: Record<string, { decision: string; ruleIds: string[] }>;
  };
  t.equal(body.categories.registration?.decision, 'permit');
  t.same(body.categories.medications?.ruleIds, ['deny-medications-s47']);
  const consent = await sgw(
    'explain',
    '--from-kind=children_social_care',
    '--role=social_worker',
    '--to-kind=health',
    '--purpose=s17_assessment',
    '--categories=registration',
    '--override',
  );
  t.match(JSON.parse(consent.out).categories.registration, {
    decision: 'permit',
    consentStatus: { status: 'overridden' },
  });
});

t.test('usage errors exit 2', async (t) => {
  t.equal((await sgw()).code, 2);
  t.equal((await sgw('help')).code, 0);
  t.equal((await sgw('frobnicate')).code, 2);
  t.equal((await sgw('check', 'a', 'b')).code, 2);
  t.equal((await sgw('check', '--colour')).code, 2);
  const missing = await sgw('explain', '--from-kind', 'police');
  t.equal(missing.code, 2);
  t.match(missing.err, /--to-kind is required/);
  const kind = await sgw(
    'explain',
    '--from-kind',
    'school',
    '--role',
    'x',
    '--to-kind',
    'police',
    '--purpose',
    'p',
    '--categories',
    'c',
  );
  t.equal(kind.code, 2);
  t.match(kind.err, /unknown agency kind "school"/);
  const consent = await sgw(
    'explain',
    '--from-kind',
    'police',
    '--role',
    'x',
    '--to-kind',
    'police',
    '--purpose',
    'p',
    '--categories',
    'c',
    '--consent',
    'maybe',
  );
  t.equal(consent.code, 2);
  const explainWith = (role: string, purpose: string, categories: string) =>
    sgw(
      'explain',
      '--from-kind',
      'police',
      '--role',
      role,
      '--to-kind',
      'probation',
      '--purpose',
      purpose,
      '--categories',
      categories,
    );
  for (const [args, message] of [
    [['gp', 'risk_to_children_check', 'mappa'], /--role: "gp" is not a role of a police agency/],
    [['police_officer', 'fishing', 'mappa'], /--purpose: unknown purpose "fishing"/],
    [['police_officer', 'risk_to_children_check', 'mappa,bogus'], /--categories: unknown category "bogus"/],
  ] as const) {
    const [role, purpose, categories] = args;
    const r = await explainWith(role, purpose, categories);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, message);
  }
  t.equal((await explainWith('police_officer', 'risk_to_children_check', 'mappa')).code, 0);
});
