import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { type Category, isCategory, leafPaths, OVERRIDE_REASONS, type OverrideReason } from './catalogue.js';
import { type CategoryDecision, type ConsentInput, decide } from './decide.js';
import { loadBundle, locate, schemaErrors, type YamlSource } from './loader.js';
import type { Bundle, BundleError } from './types.js';

/**
 * Policy test cases (`policies/tests/*.yaml`): a file holds `cases:`, each a request and what the bundle
 * must answer per category. Only the expectations written are checked, so a case can pin just the
 * decision, or also the rule ids, the exact field set, the consent outcome and the deadline.
 */

const consentState = { enum: ['given', 'refused', 'none'] };
const strings = { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 } };

const expectation = {
  type: 'object',
  additionalProperties: false,
  required: ['decision'],
  properties: {
    decision: { enum: ['permit', 'deny'] },
    code: { enum: ['policy_denied', 'consent_required'] },
    ruleIds: strings,
    fields: { oneOf: [{ const: '*' }, strings] },
    fieldsInclude: strings,
    fieldsExclude: strings,
    lawfulBasis: strings,
    lawfulBasisInclude: strings,
    consent: { enum: ['required', 'not_required'] },
    consentStatus: {
      enum: ['given', 'not_required', 'refused_not_required', 'overridden', 'missing', 'refused'],
    },
    allowOverride: { type: 'boolean' },
    respondWithin: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['workingDays'],
          properties: { workingDays: { type: 'integer' } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['hours'],
          properties: { hours: { type: 'number' } },
        },
      ],
    },
    flagTypes: strings,
  },
};

export const POLICY_TEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['cases'],
  properties: {
    description: { type: 'string' },
    cases: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'requester', 'holder', 'purpose', 'categories', 'expect'],
        properties: {
          name: { type: 'string', minLength: 1 },
          requester: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'role'],
            properties: { kind: { type: 'string' }, role: { type: 'string' } },
          },
          holder: { type: 'string' },
          purpose: { type: 'string' },
          categories: { ...strings, minItems: 1 },
          consent: {
            description: 'given | refused | none (default), for every category, or per category.',
            oneOf: [consentState, { type: 'object', additionalProperties: consentState }],
          },
          override: {
            description: 'true: an override of any reason; or the override reason the request gives.',
            oneOf: [{ type: 'boolean' }, { enum: [...OVERRIDE_REASONS] }],
          },
          expect: { type: 'object', minProperties: 1, additionalProperties: expectation },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateTestFile = ajv.compile(POLICY_TEST_SCHEMA);

type ConsentWord = 'given' | 'refused' | 'none';

interface Expectation {
  decision: 'permit' | 'deny';
  code?: string;
  ruleIds?: string[];
  fields?: string[] | '*';
  fieldsInclude?: string[];
  fieldsExclude?: string[];
  lawfulBasis?: string[];
  lawfulBasisInclude?: string[];
  consent?: string;
  consentStatus?: string;
  allowOverride?: boolean;
  respondWithin?: { workingDays: number } | { hours: number };
  flagTypes?: string[];
}

interface TestCase {
  name: string;
  requester: { kind: string; role: string };
  holder: string;
  purpose: string;
  categories: string[];
  consent?: ConsentWord | Record<string, ConsentWord>;
  override?: boolean | OverrideReason;
  expect: Record<string, Expectation>;
}

export interface PolicyTestResult {
  file: string;
  line: number;
  name: string;
  ok: boolean;
  failures: string[];
}

export interface PolicyTestReport {
  ok: boolean;
  /** Set when the bundle itself is refused: no case runs. */
  bundleErrors: BundleError[];
  /** Test files that do not parse or do not match the test format. */
  fileErrors: BundleError[];
  results: PolicyTestResult[];
  passed: number;
  failed: number;
  /** Rules that no case's decision involved. */
  uncoveredRules: string[];
}

const CONSENT: Record<ConsentWord, ConsentInput> = {
  given: { covered: true },
  refused: { covered: false, refused: true },
  none: { covered: false },
};

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

const show = (v: readonly string[]): string => `[${v.join(', ')}]`;

function check(category: string, want: Expectation, got: CategoryDecision): string[] {
  const f: string[] = [];
  const fail = (what: string, expected: string, actual: string) =>
    f.push(`${category}: ${what} expected ${expected}, got ${actual}`);
  if (got.decision !== want.decision) fail('decision', want.decision, `${got.decision} (${got.message})`);
  if (want.code !== undefined && got.code !== want.code) fail('code', want.code, String(got.code));
  if (want.ruleIds && !sameSet(want.ruleIds, got.ruleIds))
    fail('ruleIds', show(want.ruleIds), show(got.ruleIds));
  if (want.fields !== undefined) {
    const expected =
      want.fields === '*' ? (isCategory(category) ? leafPaths(category as Category) : []) : want.fields;
    if (!sameSet(expected, got.fields)) fail('fields', show(expected), show(got.fields));
  }
  for (const p of want.fieldsInclude ?? [])
    if (!got.fields.includes(p)) f.push(`${category}: field ${p} expected to be shared`);
  for (const p of want.fieldsExclude ?? [])
    if (got.fields.includes(p)) f.push(`${category}: field ${p} expected to be withheld`);
  if (want.lawfulBasis && !sameSet(want.lawfulBasis, got.lawfulBasis)) {
    fail('lawfulBasis', show(want.lawfulBasis), show(got.lawfulBasis));
  }
  for (const b of want.lawfulBasisInclude ?? []) {
    if (!got.lawfulBasis.includes(b)) f.push(`${category}: lawful basis "${b}" expected`);
  }
  if (want.consent !== undefined && got.consent !== want.consent)
    fail('consent', want.consent, String(got.consent));
  if (want.consentStatus !== undefined && got.consentStatus?.status !== want.consentStatus) {
    fail('consentStatus', want.consentStatus, String(got.consentStatus?.status));
  }
  if (want.allowOverride !== undefined && got.allowOverride !== want.allowOverride) {
    fail('allowOverride', String(want.allowOverride), String(got.allowOverride));
  }
  if (
    want.respondWithin &&
    JSON.stringify(want.respondWithin) !== JSON.stringify(got.respondWithin ?? null)
  ) {
    fail('respondWithin', JSON.stringify(want.respondWithin), JSON.stringify(got.respondWithin ?? null));
  }
  if (want.flagTypes && !sameSet(want.flagTypes, got.flagTypes ?? [])) {
    fail('flagTypes', show(want.flagTypes), show(got.flagTypes ?? []));
  }
  return f;
}

/** Runs one parsed case against a bundle; also returns the rule ids the decision involved. */
export function runCase(bundle: Bundle, c: TestCase): { failures: string[]; ruleIds: string[] } {
  const consent = c.consent ?? 'none';
  const lookup =
    typeof consent === 'string'
      ? () => CONSENT[consent]
      : (category: string) => CONSENT[consent[category] ?? 'none'];
  const decision = decide(bundle, {
    requesterKind: c.requester.kind,
    role: c.requester.role,
    holderKind: c.holder,
    purpose: c.purpose,
    categories: c.categories,
    consent: lookup,
    override: c.override ?? false,
  });
  const failures: string[] = [];
  const ruleIds: string[] = [];
  for (const [category, want] of Object.entries(c.expect)) {
    const got = decision.categories.find((d) => d.category === category);
    if (!got) {
      failures.push(`${category}: expected, but not among the case's categories`);
      continue;
    }
    failures.push(...check(category, want, got));
  }
  for (const d of decision.categories) ruleIds.push(...d.ruleIds);
  return { failures, ruleIds };
}

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Loads the bundle in `bundleDir` and runs every case of `testsDir` against it. */
export async function runPolicyTests(bundleDir: string, testsDir: string): Promise<PolicyTestReport> {
  const report: PolicyTestReport = {
    ok: false,
    bundleErrors: [],
    fileErrors: [],
    results: [],
    passed: 0,
    failed: 0,
    uncoveredRules: [],
  };
  const loaded = await loadBundle(bundleDir);
  if (!loaded.ok) {
    report.bundleErrors = loaded.errors;
    return report;
  }
  const bundle = loaded.bundle;
  let names: string[];
  try {
    names = await testFiles(testsDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    report.fileErrors.push({ file: testsDir, line: 0, message: `cannot read the tests folder (${code})` });
    return report;
  }
  if (names.length === 0)
    report.fileErrors.push({ file: testsDir, line: 0, message: 'no test file (*.yaml)' });
  const covered = new Set<string>();
  for (const name of names) {
    const text = await readFile(path.join(testsDir, name), 'utf8');
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        report.fileErrors.push({
          file: name,
          line: lines.linePos(e.pos[0]).line,
          message: `YAML: ${e.message.split('\n')[0]}`,
        });
      }
      continue;
    }
    const value = doc.toJS() as unknown;
    const src: YamlSource = { file: name, doc, lines, base: [], value };
    if (!validateTestFile(value)) {
      report.fileErrors.push(...schemaErrors(src, validateTestFile.errors ?? []));
      continue;
    }
    const cases = (value as { cases: TestCase[] }).cases;
    const casesNode = isMap(doc.contents) ? doc.contents.get('cases', true) : undefined;
    cases.forEach((c, i) => {
      const { failures, ruleIds } = runCase(bundle, c);
      for (const id of ruleIds) covered.add(id);
      const line = isSeq(casesNode) ? locate(src, ['cases', i]) : 1;
      report.results.push({ file: name, line, name: c.name, ok: failures.length === 0, failures });
    });
  }
  report.passed = report.results.filter((r) => r.ok).length;
  report.failed = report.results.length - report.passed;
  report.uncoveredRules = bundle.rules.map((r) => r.id).filter((id) => !covered.has(id));
  report.ok = report.fileErrors.length === 0 && report.failed === 0 && report.results.length > 0;
  return report;
}
