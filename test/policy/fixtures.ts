import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBundle } from '../../src/policy/loader.js';
import type { Bundle } from '../../src/policy/types.js';

/** Builds a bundle from file name -> YAML text, failing loudly when it is refused. */
export function bundleOf(files: Record<string, string>): Bundle {
  const result = buildBundle(new Map(Object.entries(files)));
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n'));
  return result.bundle;
}

/** Writes files into a new temporary folder removed after the test. */
export function tempBundle(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-policy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A minimal valid permit rule; `extra` lines are appended verbatim. */
export function rule(id: string, extra = ''): string {
  return `id: ${id}
description: test rule ${id}
purposes: [s47_enquiry]
requester: { agencyKinds: [children_social_care] }
holder: { agencyKinds: [police] }
lawfulBasis: ["UK GDPR Art 6(1)(e)"]
consent: not_required
share:
  incidents: [items.date]
${extra}`;
}
