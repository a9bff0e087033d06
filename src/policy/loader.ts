import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import canonicalizeModule from 'canonicalize';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import {
  AGENCY_KINDS,
  type AgencyKind,
  ALL_ROLES,
  isAgencyKind,
  roleBelongsToKind,
} from '../identity/roles.js';
import {
  type Category,
  describePaths,
  expandPath,
  FLAG_PUBLISHERS,
  FLAGS_CATEGORY,
  holds,
  isCategory,
  isFlagType,
  isPurpose,
  leafPaths,
} from './catalogue.js';
import { buildIndex } from './resolve.js';
import { RULE_SCHEMA } from './rule-schema.js';
import type { Bundle, BundleError, PolicyRule } from './types.js';

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

export type LoadResult = { ok: true; bundle: Bundle } | { ok: false; errors: BundleError[] };

// Compiled once. useDefaults fills effect and allowOverride in the copy we check, never the hashed one.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, useDefaults: true });
const validateRule = ajv.compile(RULE_SCHEMA);

/** UK GDPR Art 6(1)(ea), "recognised legitimate interests": not available to public authorities. */
const RECOGNISED_LEGITIMATE_INTERESTS = /6\s*\(\s*1\s*\)\s*\(\s*ea\s*\)|recognised\s+legitimate\s+interest/i;

export type Segment = string | number;

export interface YamlSource {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** Where the rule's mapping sits inside the document (a list of rules puts it at an index). */
  base: Segment[];
  value: unknown;
}

function lineOf(node: Node | null | undefined, lines: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}

/**
 * The line of the node at `at` (or of its key, for a mapping entry, when `key` is set); falls back to the
 * nearest ancestor that exists, so a missing property is reported where its parent is.
 */
export function locate(src: YamlSource, at: Segment[], key = false): number {
  let node: unknown = src.doc.contents;
  let line = lineOf(node as Node, src.lines) ?? 1;
  const full = [...src.base, ...at];
  for (let i = 0; i < full.length; i++) {
    const seg = full[i];
    const last = i === full.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const keyLine = lineOf(pair.key as Node, src.lines);
      if (last && key) return keyLine ?? line;
      node = pair.value;
      line = lineOf(node as Node, src.lines) ?? keyLine ?? line;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      line = lineOf(node as Node, src.lines) ?? line;
    } else {
      break;
    }
  }
  return line;
}

export function pointerSegments(pointer: string): Segment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function schemaErrors(src: YamlSource, errors: ErrorObject[]): BundleError[] {
  const seen = new Set<string>();
  const out: BundleError[] = [];
  for (const e of errors) {
    // oneOf / if-then report a summary next to the branch errors that already say what is wrong.
    if (e.keyword === 'if' || (e.keyword === 'oneOf' && errors.length > 1)) continue;
    const params = e.params as {
      additionalProperty?: string;
      missingProperty?: string;
      allowedValues?: unknown[];
    };
    const at = pointerSegments(e.instancePath);
    const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'rule';
    let message: string;
    let line: number;
    if (params.additionalProperty !== undefined) {
      message = `${where}: unknown property "${params.additionalProperty}"`;
      line = locate(src, [...at, params.additionalProperty], true);
    } else if (params.missingProperty !== undefined) {
      message = `${where}: missing required property "${params.missingProperty}"`;
      line = locate(src, at, true);
    } else {
      const allowed = params.allowedValues ? `: ${params.allowedValues.join(', ')}` : '';
      message = `${where}: ${e.message ?? 'is invalid'}${allowed}`;
      line = locate(src, at, e.keyword === 'propertyNames');
    }
    const k = `${line}\u0000${message}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ file: src.file, line, message });
    }
  }
  return out;
}

interface RawRule {
  id: string;
  description: string;
  effect: 'permit' | 'deny';
  purposes: string[];
  requester: { agencyKinds: string[]; roles?: string[] };
  holder: { agencyKinds: string[] };
  lawfulBasis?: string[];
  consent?: 'required' | 'not_required';
  allowOverride: boolean;
  overrideReasons?: PolicyRule['overrideReasons'];
  respondWithin?: PolicyRule['respondWithin'];
  flagTypes?: string[];
  share: Record<string, string[] | '*'>;
}

/** Vocabulary and consistency checks on a rule that passed the schema. */
function semanticErrors(src: YamlSource, rule: RawRule): { errors: BundleError[]; rule?: PolicyRule } {
  const errors: BundleError[] = [];
  const fail = (at: Segment[], message: string, key = false) =>
    errors.push({ file: src.file, line: locate(src, at, key), message: `rule ${rule.id}: ${message}` });

  rule.purposes.forEach((p, i) => {
    if (!isPurpose(p)) fail(['purposes', i], `unknown purpose "${p}"`);
  });
  const kindsOk = (list: string[], at: string) =>
    list.forEach((k, i) => {
      if (!isAgencyKind(k))
        fail([at, 'agencyKinds', i], `unknown agency kind "${k}" (known: ${AGENCY_KINDS.join(', ')})`);
    });
  kindsOk(rule.requester.agencyKinds, 'requester');
  kindsOk(rule.holder.agencyKinds, 'holder');
  const requesterKinds = rule.requester.agencyKinds.filter(isAgencyKind);
  const holderKinds = rule.holder.agencyKinds.filter(isAgencyKind);

  rule.requester.roles?.forEach((role, i) => {
    if (!(ALL_ROLES as readonly string[]).includes(role)) {
      fail(['requester', 'roles', i], `unknown role "${role}"`);
    } else if (requesterKinds.length > 0 && !requesterKinds.some((k) => roleBelongsToKind(role, k))) {
      fail(
        ['requester', 'roles', i],
        `role "${role}" does not belong to any requester kind (${requesterKinds.join(', ')})`,
      );
    }
  });

  rule.lawfulBasis?.forEach((basis, i) => {
    if (RECOGNISED_LEGITIMATE_INTERESTS.test(basis)) {
      fail(
        ['lawfulBasis', i],
        'UK GDPR Art 6(1)(ea) "recognised legitimate interests" cannot be relied on by public authorities for their public tasks',
      );
    }
  });

  const flagTypes = rule.flagTypes ?? [];
  flagTypes.forEach((f, i) => {
    if (!isFlagType(f)) {
      fail(['flagTypes', i], `unknown flag type "${f}"`);
    } else if (
      holderKinds.length > 0 &&
      !holderKinds.some((k) => (FLAG_PUBLISHERS[f] as readonly string[]).includes(k))
    ) {
      fail(
        ['flagTypes', i],
        `flag type "${f}" is not published by any holder kind (${holderKinds.join(', ')})`,
      );
    }
  });
  if (rule.overrideReasons && !(rule.allowOverride && rule.consent === 'required')) {
    fail(
      ['overrideReasons'],
      'overrideReasons only apply with consent: required and allowOverride: true',
      true,
    );
  }
  if (rule.flagTypes && rule.share[FLAGS_CATEGORY] === undefined) {
    fail(['flagTypes'], 'flagTypes only apply to a rule that covers the flags category', true);
  }

  const share: Partial<Record<Category, string[]>> = {};
  for (const [category, paths] of Object.entries(rule.share)) {
    if (!isCategory(category)) {
      fail(['share', category], `unknown category "${category}"`, true);
      continue;
    }
    if (holderKinds.length > 0 && !holderKinds.some((k) => holds(k, category))) {
      fail(['share', category], `category "${category}" is not held by ${holderKinds.join(' or ')}`, true);
      continue;
    }
    if (paths === '*') {
      share[category] = [...leafPaths(category)];
      continue;
    }
    const expanded = new Set<string>();
    paths.forEach((p, i) => {
      const concrete = expandPath(category, p);
      if (concrete) for (const c of concrete) expanded.add(c);
      else
        fail(
          ['share', category, i],
          `unknown field "${p}" of ${category} (valid: ${describePaths(category).join(', ')})`,
        );
    });
    share[category] = [...expanded];
  }

  if (errors.length > 0) return { errors };
  const src0 = { file: src.file, line: locate(src, []) };
  return {
    errors,
    rule: {
      id: rule.id,
      description: rule.description,
      effect: rule.effect,
      purposes: rule.purposes as PolicyRule['purposes'],
      requester: {
        agencyKinds: requesterKinds,
        ...(rule.requester.roles ? { roles: rule.requester.roles as PolicyRule['requester']['roles'] } : {}),
      },
      holder: { agencyKinds: holderKinds as AgencyKind[] },
      lawfulBasis: rule.lawfulBasis ?? [],
      consent: rule.consent ?? 'not_required',
      allowOverride: rule.allowOverride,
      ...(rule.overrideReasons ? { overrideReasons: rule.overrideReasons } : {}),
      ...(rule.respondWithin ? { respondWithin: rule.respondWithin } : {}),
      ...(rule.flagTypes ? { flagTypes: rule.flagTypes as PolicyRule['flagTypes'] } : {}),
      share,
      shareAsWritten: rule.share as PolicyRule['shareAsWritten'],
      ...src0,
    },
  };
}

/** The rule mappings of one file: a document may hold one rule or a list of rules. */
function sources(
  file: string,
  text: string,
): { sources: YamlSource[]; errors: BundleError[]; content: unknown[] } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const errors: BundleError[] = [];
  const out: YamlSource[] = [];
  const content: unknown[] = [];
  if (!Array.isArray(docs)) {
    return { sources: [], errors: [{ file, line: 1, message: 'the file holds no YAML document' }], content };
  }
  for (const doc of docs) {
    for (const e of doc.errors) {
      const start = e.pos[0];
      errors.push({ file, line: lines.linePos(start).line, message: `YAML: ${e.message.split('\n')[0]}` });
    }
    if (doc.errors.length > 0) continue;
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) continue;
    content.push(value);
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        out.push({ file, doc, lines, base: [i], value: v });
      });
    } else {
      out.push({ file, doc, lines, base: [], value });
    }
  }
  if (out.length === 0 && errors.length === 0)
    errors.push({ file, line: 1, message: 'the file holds no rule' });
  return { sources: out, errors, content };
}

/** The YAML files of a bundle folder (not its tests/ subfolder), sorted. */
export async function bundleFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Parses and checks already-read files; `files` maps a file name to its text. */
export function buildBundle(files: ReadonlyMap<string, string>): LoadResult {
  const errors: BundleError[] = [];
  const rules: PolicyRule[] = [];
  const hashed: Array<{ file: string; content: unknown[] }> = [];
  const firstSeen = new Map<string, { file: string; line: number }>();
  const names = [...files.keys()].sort();
  if (names.length === 0)
    return { ok: false, errors: [{ file: '.', line: 0, message: 'the bundle holds no policy file' }] };

  for (const file of names) {
    const parsed = sources(file, files.get(file)!);
    errors.push(...parsed.errors);
    hashed.push({ file, content: parsed.content });
    for (const src of parsed.sources) {
      // Validate a copy: defaults are filled in, and the hashed content stays as written.
      const candidate = structuredClone(src.value);
      if (!validateRule(candidate)) {
        errors.push(...schemaErrors(src, validateRule.errors ?? []));
        continue;
      }
      const raw = candidate as RawRule;
      const seen = firstSeen.get(raw.id);
      if (seen) {
        errors.push({
          file,
          line: locate(src, ['id']),
          message: `duplicate rule id "${raw.id}" (first defined in ${seen.file}:${seen.line})`,
        });
      } else {
        firstSeen.set(raw.id, { file, line: locate(src, ['id']) });
      }
      const checked = semanticErrors(src, raw);
      errors.push(...checked.errors);
      if (checked.rule) rules.push(checked.rule);
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const canonical = canonicalize(hashed);
  const version = createHash('sha256')
    .update(canonical ?? '')
    .digest('hex');
  return {
    ok: true,
    bundle: Object.freeze({ version, rules: Object.freeze(rules), index: buildIndex(rules) }),
  };
}

/** Reads every policy file of `dir` and returns the bundle, or every error with its file and line. */
export async function loadBundle(dir: string): Promise<LoadResult> {
  let names: string[];
  try {
    names = await bundleFiles(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      ok: false,
      errors: [{ file: dir, line: 0, message: `cannot read the policy folder (${code})` }],
    };
  }
  const files = new Map<string, string>();
  for (const name of names) {
    try {
      files.set(name, await readFile(path.join(dir, name), 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      return { ok: false, errors: [{ file: name, line: 0, message: `cannot read the file (${code})` }] };
    }
  }
  const result = buildBundle(files);
  if (!result.ok && names.length === 0) {
    return {
      ok: false,
      errors: [{ file: dir, line: 0, message: 'the folder holds no policy file (*.yaml)' }],
    };
  }
  return result;
}
