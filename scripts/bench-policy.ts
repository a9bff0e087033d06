/**
 * Policy benchmark: median decision time over a bundle of at least 50 rules, and field filtering of a
 * ~10 KB payload, each also as a ratio of a baseline measured in the same run (so that figures from
 * different machines compare). Run: node --import tsx scripts/bench-policy.ts
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DecisionInput, decide } from '../src/policy/decide.js';
import { filterPayload } from '../src/policy/filter.js';
import { buildBundle, bundleFiles } from '../src/policy/loader.js';

const policiesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'policies');

const PURPOSES = [
  's47_enquiry',
  'strategy_discussion',
  'child_protection_conference',
  's17_assessment',
  'early_help',
];
const HOLDERS: Array<[string, string[]]> = [
  ['police', ['incidents', 'convictions', 'bail_conditions', 'domestic_abuse']],
  ['health', ['registration', 'attendances', 'missed_appointments', 'relevant_conditions']],
  ['probation', ['risk_of_serious_harm', 'licence_conditions', 'supervising_officer', 'current_address']],
];

/** Extra rules in the shape of the shipped ones, so the index holds many overlapping keys. */
function generatedRules(count: number): Map<string, string> {
  const files = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const purpose = PURPOSES[i % PURPOSES.length]!;
    const [holder, categories] = HOLDERS[i % HOLDERS.length]!;
    const category = categories[i % categories.length]!;
    const consent = purpose === 's17_assessment' || purpose === 'early_help' ? 'required' : 'not_required';
    files.set(
      `generated-${String(i).padStart(3, '0')}.yaml`,
      `id: generated-${i}
description: generated rule ${i}
purposes: [${purpose}]
requester: { agencyKinds: [children_social_care] }
holder: { agencyKinds: [${holder}] }
lawfulBasis: ["UK GDPR Art 6(1)(e)", "generated basis ${i % 7}"]
consent: ${consent}
allowOverride: ${i % 2 === 0}
respondWithin: ${i % 3 === 0 ? `{ hours: ${8 + i} }` : `{ workingDays: ${1 + (i % 5)} }`}
share:
  ${category}: "*"
`,
    );
  }
  return files;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median nanoseconds per call of `fn`, over `rounds` timed batches of `batch` calls. */
function measure(fn: (i: number) => unknown, batch: number, rounds = 41): number {
  let sink = 0;
  for (let i = 0; i < batch * 5; i++) sink += fn(i) ? 1 : 0;
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink += fn(i) ? 1 : 0;
    perCall.push(Number(process.hrtime.bigint() - start) / batch);
  }
  if (sink < 0) console.log(sink);
  return median(perCall);
}

const files = new Map<string, string>();
for (const name of await bundleFiles(policiesDir))
  files.set(name, readFileSync(path.join(policiesDir, name), 'utf8'));
const shippedRules = files.size;
for (const [name, text] of generatedRules(Math.max(0, 60 - shippedRules))) files.set(name, text);
const loadStart = process.hrtime.bigint();
const loaded = buildBundle(files);
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
const bundle = loaded.bundle;

const inputs: DecisionInput[] = [];
for (const purpose of PURPOSES) {
  for (const [holderKind, categories] of HOLDERS) {
    inputs.push({
      requesterKind: 'children_social_care',
      role: 'social_worker',
      holderKind,
      purpose,
      categories: [...categories, 'medications', 'intelligence'],
      consent: { [categories[0]!]: { covered: true } },
      override: purpose === 'early_help',
    });
  }
}
const categoriesPerCall = inputs.reduce((n, i) => n + i.categories.length, 0) / inputs.length;

// Baseline for decisions: as many plain property lookups as the decision makes categories.
const table: Record<string, { n: number }> = {};
const keys: string[] = [];
for (let i = 0; i < 64; i++) {
  keys.push(`key-${i}`);
  table[`key-${i}`] = { n: i };
}
const lookups = Math.round(categoriesPerCall);
const baselineLookup = measure((i) => {
  let s = 0;
  for (let k = 0; k < lookups; k++) s += table[keys[(i + k) & 63]!]!.n;
  return s;
}, 20_000);
const decideNs = measure((i) => decide(bundle, inputs[i % inputs.length]!), 20_000);

// A ~10 KB attendances payload, filtered to two of its four fields (the s17-style share).
const payload = {
  items: Array.from({ length: 70 }, (_, i) => ({
    date: `2025-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
    setting: ['emergency_department', 'urgent_care', 'gp', 'walk_in', 'out_of_hours'][i % 5],
    reason: `attendance reason number ${i} with some narrative text`,
    outcome: `outcome ${i}: discharged with advice`,
  })),
};
const text = JSON.stringify(payload);
const fields = ['items.date', 'items.setting'];
const parseNs = measure(() => JSON.parse(text), 2_000);
const filterNs = measure(() => filterPayload(payload, fields), 2_000);

const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
console.log(
  `policy bundle: ${bundle.rules.length} rules (${shippedRules} shipped files + generated), built in ${loadMs.toFixed(1)} ms`,
);
console.log(
  `decide(): median ${us(decideNs)} per call (${categoriesPerCall.toFixed(1)} categories each), target < 20 µs`,
);
console.log(
  `  baseline: ${lookups} plain object property lookups ${us(baselineLookup)}; ratio ${(decideNs / baselineLookup).toFixed(1)}x`,
);
console.log(
  `filterPayload(): median ${us(filterNs)} for a ${(text.length / 1024).toFixed(1)} KB payload (${payload.items.length} items)`,
);
console.log(
  `  baseline: JSON.parse of the same payload ${us(parseNs)}; ratio ${(filterNs / parseNs).toFixed(2)}x`,
);
if (decideNs > 20_000) process.exitCode = 1;
