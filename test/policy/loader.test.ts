import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { buildBundle, loadBundle } from '../../src/policy/loader.js';
import { RULE_SCHEMA } from '../../src/policy/rule-schema.js';
import type { BundleError } from '../../src/policy/types.js';
import { rule, tempBundle } from './fixtures.js';

async function refused(t: Test, files: Record<string, string>): Promise<BundleError[]> {
  const result = await loadBundle(tempBundle(t, files));
  t.equal(result.ok, false, 'refused');
  return result.ok ? [] : result.errors;
}

function has(t: Test, errors: BundleError[], file: string, line: number, pattern: RegExp): void {
  const hit = errors.find((e) => e.file === file && e.line === line && pattern.test(e.message));
  t.ok(hit, `${file}:${line} ${pattern} in ${JSON.stringify(errors)}`);
}

t.test('a valid bundle loads; the tests folder is not part of it', async (t) => {
  const dir = tempBundle(t, {
    'a.yaml': rule('a'),
    'b.yml': rule('b'),
    'notes.txt': 'ignored',
    'tests/cases.yaml': 'not: a rule',
  });
  const result = await loadBundle(dir);
  t.ok(result.ok);
  if (!result.ok) return;
  t.same(
    result.bundle.rules.map((r) => [r.id, r.file, r.line, r.effect, r.allowOverride]),
    [
      ['a', 'a.yaml', 1, 'permit', false],
      ['b', 'b.yml', 1, 'permit', false],
    ],
  );
  t.match(result.bundle.version, /^[0-9a-f]{64}$/);
});

t.test('a file may hold a list of rules or several documents', async (t) => {
  const list = `- ${rule('a').replace(/\n/g, '\n  ')}\n- ${rule('b').replace(/\n/g, '\n  ')}`;
  const result = await loadBundle(
    tempBundle(t, { 'list.yaml': list, 'docs.yaml': `${rule('c')}\n---\n${rule('d')}` }),
  );
  t.ok(result.ok);
  if (result.ok) t.same(result.bundle.rules.map((r) => r.id).sort(), ['a', 'b', 'c', 'd']);
});

t.test('schema errors carry file and line', async (t) => {
  const errors = await refused(t, {
    'a.yaml': `${rule('a')}colour: blue\n`,
    'b.yaml': rule('b').replace('consent: not_required', 'consent: maybe'),
    'c.yaml': rule('c').replace('id: c', 'id: "c d"'),
    'd.yaml': rule('d').replace('lawfulBasis: ["UK GDPR Art 6(1)(e)"]\n', ''),
    'e.yaml': rule('e').replace('  incidents: [items.date]', '  incidents: everything'),
    'f.yaml': rule('f', 'respondWithin: { days: 3 }'),
  });
  has(t, errors, 'a.yaml', 10, /unknown property "colour"/);
  has(t, errors, 'b.yaml', 7, /consent: must be equal to one of the allowed values: required, not_required/);
  has(t, errors, 'c.yaml', 1, /id: must match pattern/);
  has(t, errors, 'd.yaml', 1, /missing required property "lawfulBasis"/);
  has(t, errors, 'e.yaml', 9, /share\.incidents/);
  has(t, errors, 'f.yaml', 10, /respondWithin/);
});

t.test(
  'a rule needs no description, and its id may use capitals, digits, dots, dashes and colons',
  async (t) => {
    const result = await loadBundle(
      tempBundle(t, {
        'a.yaml': rule('Police:Check-2.A').replace('description: test rule Police:Check-2.A\n', ''),
      }),
    );
    t.ok(result.ok, JSON.stringify(result.ok ? [] : result.errors));
    if (result.ok)
      t.same(
        result.bundle.rules.map((r) => [r.id, r.description]),
        [['Police:Check-2.A', '']],
      );
  },
);

t.test('YAML syntax errors and duplicate keys carry file and line', async (t) => {
  const errors = await refused(t, {
    'a.yaml': 'id: a\ndescription: [unclosed\n',
    'b.yaml': `${rule('b')}id: again\n`,
    'c.yaml': '',
  });
  t.ok(
    errors.some((e) => e.file === 'a.yaml' && e.line >= 2 && /YAML/.test(e.message)),
    JSON.stringify(errors),
  );
  has(t, errors, 'b.yaml', 10, /YAML: Map keys must be unique/);
  has(t, errors, 'c.yaml', 1, /no rule/);
});

t.test('semantic errors: unknown words, with file and line', async (t) => {
  const errors = await refused(t, {
    'purpose.yaml': rule('p').replace('[s47_enquiry]', '[s47_enquiry, gossip]'),
    'kind.yaml': rule('k').replace('agencyKinds: [police]', 'agencyKinds: [school]'),
    'role.yaml': rule('r').replace(
      'agencyKinds: [children_social_care] }',
      'agencyKinds: [children_social_care], roles: [janitor] }',
    ),
    'wrongrole.yaml': rule('w').replace(
      'agencyKinds: [children_social_care] }',
      'agencyKinds: [children_social_care], roles: [social_worker, gp] }',
    ),
    'category.yaml': rule('c', '  gossip: "*"'),
    'field.yaml': rule('f').replace('[items.date]', '[items.date, items.colour]'),
    'held.yaml': rule('h', '  medications: "*"'),
    'flag.yaml': rule('g', '  flags: [flag]\nflagTypes: [unicorn]'),
    'flagholder.yaml': rule('fh', '  flags: [flag]\nflagTypes: [child_protection_plan]'),
    'flagnoshare.yaml': rule('fn', 'flagTypes: [risk_to_children]'),
    'ea.yaml': rule('ea').replace(
      '["UK GDPR Art 6(1)(e)"]',
      '["UK GDPR Art 6(1)(e)", "UK GDPR Art 6(1)(ea)"]',
    ),
    'rli.yaml': rule('rli').replace(
      'lawfulBasis: ["UK GDPR Art 6(1)(e)"]',
      'lawfulBasis:\n  - Recognised legitimate interests',
    ),
  });
  has(t, errors, 'purpose.yaml', 3, /unknown purpose "gossip"/);
  has(t, errors, 'kind.yaml', 5, /unknown agency kind "school"/);
  has(t, errors, 'role.yaml', 4, /unknown role "janitor"/);
  has(t, errors, 'wrongrole.yaml', 4, /role "gp" does not belong to any requester kind/);
  has(t, errors, 'category.yaml', 10, /unknown category "gossip"/);
  has(t, errors, 'field.yaml', 9, /unknown field "items.colour" of incidents/);
  has(t, errors, 'held.yaml', 10, /category "medications" is not held by police/);
  has(t, errors, 'flag.yaml', 11, /unknown flag type "unicorn"/);
  has(
    t,
    errors,
    'flagholder.yaml',
    11,
    /flag type "child_protection_plan" is not published by any holder kind \(police\)/,
  );
  has(t, errors, 'flagnoshare.yaml', 10, /flagTypes only apply to a rule that covers the flags category/);
  has(t, errors, 'ea.yaml', 6, /6\(1\)\(ea\)/);
  has(t, errors, 'rli.yaml', 7, /recognised legitimate interests/);
  t.equal(errors.length, 12, 'one error each, and nothing else');
});

t.test('duplicate ids across the bundle', async (t) => {
  const errors = await refused(t, { 'a.yaml': rule('same'), 'b.yaml': `# a comment\n${rule('same')}` });
  has(t, errors, 'b.yaml', 2, /duplicate rule id "same" \(first defined in a.yaml:1\)/);
});

t.test('a bundle is refused whole: one bad file refuses the good ones', async (t) => {
  const result = await loadBundle(
    tempBundle(t, { 'good.yaml': rule('good'), 'bad.yaml': rule('bad', '  gossip: "*"') }),
  );
  t.equal(result.ok, false);
});

t.test('an empty or missing folder is refused', async (t) => {
  const empty = await loadBundle(tempBundle(t, { 'readme.md': 'x' }));
  t.equal(empty.ok, false);
  if (!empty.ok) t.match(empty.errors[0]!.message, /no policy file/);
  const missing = await loadBundle('/nonexistent/sgw/policies');
  t.equal(missing.ok, false);
  if (!missing.ok) t.match(missing.errors[0]!.message, /ENOENT/);
});

t.test('version: changes with content, not with whitespace, comments or key order', async (t) => {
  const v = (files: Record<string, string>) => {
    const r = buildBundle(new Map(Object.entries(files)));
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.bundle.version;
  };
  const original = v({ 'a.yaml': rule('a'), 'b.yaml': rule('b') });
  t.equal(v({ 'b.yaml': rule('b'), 'a.yaml': rule('a') }), original, 'file order');
  t.equal(
    v({ 'a.yaml': `# comment\n\n${rule('a').replace(/: /g, ':   ')}   \n`, 'b.yaml': rule('b') }),
    original,
    'whitespace',
  );
  const reordered = rule('a').split('\n');
  [reordered[0], reordered[1]] = [reordered[1]!, reordered[0]!];
  t.equal(v({ 'a.yaml': reordered.join('\n'), 'b.yaml': rule('b') }), original, 'key order');
  t.equal(
    v({
      'a.yaml': rule('a').replace('{ agencyKinds: [police] }', '\n  agencyKinds:\n    - police'),
      'b.yaml': rule('b'),
    }),
    original,
    'flow vs block',
  );
  t.not(
    v({ 'a.yaml': rule('a').replace('items.date', 'items.type'), 'b.yaml': rule('b') }),
    original,
    'content',
  );
  t.not(v({ 'a.yaml': rule('a'), 'c.yaml': rule('b') }), original, 'file name');
  t.not(v({ 'a.yaml': rule('a') }), original, 'a file removed');
});

t.test('policies/schema.json is the schema the loader uses', async (t) => {
  const published = JSON.parse(readFileSync(new URL('../../policies/schema.json', import.meta.url), 'utf8'));
  t.same(published, JSON.parse(JSON.stringify(RULE_SCHEMA)));
});

t.test('the shipped bundle loads', async (t) => {
  const result = await loadBundle(new URL('../../policies', import.meta.url).pathname);
  t.ok(result.ok, result.ok ? 'ok' : JSON.stringify(result.errors));
  if (result.ok) t.ok(result.bundle.rules.length >= 20);
});
