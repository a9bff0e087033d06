import path from 'node:path';
import { type AgencyKind, isAgencyKind, roleBelongsToKind } from '../identity/roles.js';
import { isCategory, isPurpose } from '../policy/catalogue.js';
import { explain } from '../policy/decide.js';
import { loadBundle } from '../policy/loader.js';
import { runPolicyTests } from '../policy/policy-tests.js';
import type { BundleError } from '../policy/types.js';
import { type CliIo, parseOptions, required, UsageError } from './io.js';

const USAGE = `usage: sgw policy <command>
  check [DIR]       validate the bundle in DIR (default: SGW_POLICIES_DIR); lists every error as file:line
  test [DIR]        run the cases in DIR/tests/*.yaml against the bundle in DIR
  explain --from-kind K --role R --to-kind K --purpose P --categories a,b
          [--dir DIR] [--consent given|refused|none] [--override]`;

const formatError = (dir: string, e: BundleError): string =>
  `${e.line > 0 ? `${path.join(dir, e.file)}:${e.line}` : path.resolve(dir, e.file)}: ${e.message}`;

async function check(args: string[], io: CliIo, defaultDir: string): Promise<number> {
  const dir = parseOptions(args, {}, 1).positionals[0] ?? defaultDir;
  const result = await loadBundle(dir);
  if (!result.ok) {
    for (const e of result.errors) io.stderr(formatError(dir, e));
    io.stderr(`policy bundle refused: ${result.errors.length} error(s)`);
    return 1;
  }
  io.stdout(`policy bundle ok: ${result.bundle.rules.length} rules, version ${result.bundle.version}`);
  return 0;
}

async function test(args: string[], io: CliIo, defaultDir: string): Promise<number> {
  const dir = parseOptions(args, {}, 1).positionals[0] ?? defaultDir;
  const testsDir = path.join(dir, 'tests');
  const report = await runPolicyTests(dir, testsDir);
  if (report.bundleErrors.length > 0) {
    for (const e of report.bundleErrors) io.stderr(formatError(dir, e));
    io.stderr(`policy bundle refused: ${report.bundleErrors.length} error(s); no test ran`);
    return 1;
  }
  for (const e of report.fileErrors) io.stderr(formatError(testsDir, e));
  for (const r of report.results) {
    if (r.ok) continue;
    io.stderr(`FAIL ${path.join(testsDir, r.file)}:${r.line} ${r.name}`);
    for (const f of r.failures) io.stderr(`  ${f}`);
  }
  if (report.uncoveredRules.length > 0) {
    io.stdout(`rules no case involves: ${report.uncoveredRules.join(', ')}`);
  }
  io.stdout(`${report.passed} passed, ${report.failed} failed (${report.results.length} cases)`);
  return report.ok ? 0 : 1;
}

async function explainCommand(args: string[], io: CliIo, defaultDir: string): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      'from-kind': { type: 'string' },
      role: { type: 'string' },
      'to-kind': { type: 'string' },
      purpose: { type: 'string' },
      categories: { type: 'string' },
      dir: { type: 'string' },
      consent: { type: 'string' },
      override: { type: 'boolean' },
    },
    0,
  );
  const fromKind = required(values, 'from-kind');
  const toKind = required(values, 'to-kind');
  for (const [flag, kind] of [
    ['from-kind', fromKind],
    ['to-kind', toKind],
  ] as const) {
    if (!isAgencyKind(kind)) throw new UsageError(`--${flag}: unknown agency kind "${kind}"`);
  }
  const consentWord = (values.consent as string | undefined) ?? 'none';
  if (!['given', 'refused', 'none'].includes(consentWord)) {
    throw new UsageError('--consent must be given, refused or none');
  }
  const categories = required(values, 'categories')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  // A typo must not read as a policy refusal.
  const role = required(values, 'role');
  if (!roleBelongsToKind(role, fromKind as AgencyKind)) {
    throw new UsageError(`--role: "${role}" is not a role of a ${fromKind} agency`);
  }
  const purpose = required(values, 'purpose');
  if (!isPurpose(purpose)) throw new UsageError(`--purpose: unknown purpose "${purpose}"`);
  const unknown = categories.filter((c) => !isCategory(c));
  if (unknown.length > 0) throw new UsageError(`--categories: unknown category "${unknown[0]}"`);
  const dir = (values.dir as string | undefined) ?? defaultDir;
  const result = await loadBundle(dir);
  if (!result.ok) {
    for (const e of result.errors) io.stderr(formatError(dir, e));
    return 1;
  }
  const consent = { covered: consentWord === 'given', refused: consentWord === 'refused' };
  const answer = explain(result.bundle, {
    requesterKind: fromKind,
    role,
    holderKind: toKind,
    purpose,
    categories,
    consent: () => consent,
    override: values.override === true,
  });
  io.stdout(JSON.stringify({ version: result.bundle.version, categories: answer }, null, 2));
  return 0;
}

/**
 * `sgw policy check|test|explain`. `argv` is what follows `policy`; `defaultDir` is the configured
 * SGW_POLICIES_DIR. Exit codes: 0 ok, 1 a refused bundle or a failing test, 2 a usage mistake.
 */
export async function runPolicyCommand(
  argv: string[],
  io: CliIo,
  defaultDir = './policies',
): Promise<number> {
  const [sub, ...args] = argv;
  try {
    switch (sub) {
      case 'check':
        return await check(args, io, defaultDir);
      case 'test':
        return await test(args, io, defaultDir);
      case 'explain':
        return await explainCommand(args, io, defaultDir);
      case undefined:
      case 'help':
      case '--help':
        io.stdout(USAGE);
        return sub ? 0 : 2;
      default:
        io.stderr(`sgw policy: unknown command "${sub}"\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`sgw policy ${sub}: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
