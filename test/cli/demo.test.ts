import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCli } from '../../src/cli/run.js';

const POLICIES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies');

interface CliResult {
  code: number;
  out: string;
  err: string;
}

function tempDir(t: { teardown(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function sgw(env: Record<string, string>, ...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const workspaceOf = (out: string): string => /workspace {2}(\S+)/.exec(out)?.[1] ?? '';

t.test(
  'sgw demo runs the three journeys through a throwaway gateway and leaves nothing behind',
  async (t) => {
    // The operator's own folders: the demo must neither read nor write them.
    const certsDir = tempDir(t, 'sgw-demo-operator-certs-');
    const dataDir = tempDir(t, 'sgw-demo-operator-data-');
    const r = await sgw(
      {
        SGW_CERTS_DIR: certsDir,
        SGW_DATA_DIR: dataDir,
        SGW_POLICIES_DIR: POLICIES,
        LOG_LEVEL: 'silent',
        // Would be the operator's real database: the demo keeps to its own embedded one.
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/not-the-demo',
      },
      'demo',
    );
    t.equal(r.code, 0, r.err);
    t.equal(r.err, '');

    const lines = r.out.split('\n');
    const stepLine = (re: RegExp) => lines.find((l) => re.test(l)) ?? '';
    // The GP's concern: a deadline, the CSC's inbox, a decision, feedback to the GP without the internal note.
    t.match(stepLine(/GP@demo-gp POST \/v1\/concerns/), /201 .*submitted; to be decided by \d{4}-\d\d-\d\dT/);
    t.match(stepLine(/MASH officer@demo-csc GET \/v1\/inbox/), /200 .*concern\.received \(concern\), due /);
    t.match(stepLine(/POST \/v1\/concerns\/:id\/decision/), /200 .*decided: strategy_discussion/);
    t.match(stepLine(/GP@demo-gp GET \/v1\/inbox/), /200 .*concern\.decided/);
    t.match(stepLine(/GP@demo-gp GET \/v1\/concerns\/:id/), /200 .*feedback ".*" \(no internal note\)/);
    // The police officer's household check: probation's MAPPA flag with what police may see, the child's plan.
    t.match(
      stepLine(/POST \/v1\/flags\/search/),
      /200 .*adult: exact, mappa_managed by demo-probation \{category, level\}; child: exact, child_protection_plan by demo-csc$/,
    );
    t.match(stepLine(/social worker@demo-csc GET \/v1\/inbox/), /200 .*flag\.accessed/);
    // The auditor's subject report covers all three journeys.
    t.match(
      stepLine(/GET \/v1\/audit\/subject-report/),
      /200 .*concern\.submitted.*flag\.searched.*request\.created.*disclosure\.viewed/,
    );
    t.match(
      stepLine(/POST \/v1\/requests to demo-police/),
      /^ ?\d+\. 201 .*refused: intelligence \(policy_denied/,
    );
    t.match(stepLine(/demo-gp, child/), /201 .*granted: registration, attendances/);
    t.match(
      stepLine(/probation officer@demo-probation POST/),
      /200 .*released: mappa \(category, leadAgency, level\).*withheld by policy: mappa \(nextReview\)/,
    );
    t.match(stepLine(/GP@demo-gp POST \/v1\/requests\/:id\/decline/), /200 .*declined: "/);
    t.match(stepLine(/GET \/v1\/requests\/:id \(to demo-probation\)/), /200 .*responded: mappa/);
    t.notMatch(stepLine(/GET \/v1\/requests\/:id \(to demo-probation\)/), /nextReview/);
    t.match(stepLine(/GET \/v1\/audit →/), /200 .*\d+ entries: .*request\.refused ×1.*request\.declined ×1/);
    t.match(stepLine(/GET \/v1\/audit\/verify/), /200 .*ok: true over \d+ entries/);
    t.match(stepLine(/GET \/v1\/audit\/checkpoint/), /200 .*tree size \d+/);
    t.match(stepLine(/GET \/v1\/audit\/keys/), /signature valid/);
    t.match(r.out, /all \d+ steps answered as expected/);

    // Nothing secret on screen: no private key, no token.
    t.notMatch(r.out, /PRIVATE KEY/);
    t.notMatch(r.out, /eyJ[\w-]+\./);
    t.notMatch(r.out, /Bearer \S/);

    const workspace = workspaceOf(r.out);
    t.ok(workspace.startsWith(os.tmpdir()), `a temporary workspace was named (${workspace})`);
    t.notOk(existsSync(workspace), 'the temporary folder is gone');
    t.same(readdirSync(certsDir), [], "the operator's certificates folder is untouched");
    t.same(readdirSync(dataDir), [], "the operator's data folder is untouched");
  },
);

t.test('sgw demo --keep keeps the workspace and says how to explore it', async (t) => {
  const r = await sgw({ SGW_POLICIES_DIR: POLICIES, LOG_LEVEL: 'silent' }, 'demo', '--keep');
  const workspace = workspaceOf(r.out);
  t.teardown(() => {
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });
  t.equal(r.code, 0, r.err);
  t.ok(existsSync(path.join(workspace, 'certs', 'ca.crt')), 'the CA is still there');
  t.ok(existsSync(path.join(workspace, 'data')), 'the embedded database is still there');
  t.match(r.out, `Kept ${workspace}`);
  t.match(r.out, `SGW_CERTS_DIR=${path.join(workspace, 'certs')}`);
  t.notMatch(r.out, /eyJ[\w-]+\./);
});

t.test('sgw demo names the failing step, exits 1 and still cleans up', async (t) => {
  // A bundle without the flag and s47 rules: the household check finds nothing where it expects a flag.
  const policies = tempDir(t, 'sgw-demo-policies-');
  copyFileSync(path.join(POLICIES, 's17-police.yaml'), path.join(policies, 's17-police.yaml'));
  const r = await sgw({ SGW_POLICIES_DIR: policies, LOG_LEVEL: 'silent' }, 'demo');
  t.equal(r.code, 1);
  t.match(
    r.err,
    /failed at step \d+ \(police officer@demo-police POST \/v1\/flags\/search.*\): the MAPPA flag was not found/,
    'the first step the missing rules change: no flag rule, no flag shown',
  );
  t.notOk(existsSync(workspaceOf(r.out)), 'the temporary folder is gone');
});

t.test('sgw demo refuses an unknown option or argument (exit 2)', async (t) => {
  const bad = await sgw({ LOG_LEVEL: 'silent' }, 'demo', '--bogus');
  t.equal(bad.code, 2);
  t.match(bad.err, /sgw demo: .*--bogus/);
  t.equal(bad.out, '', 'nothing was started');
  const stray = await sgw({ LOG_LEVEL: 'silent' }, 'demo', 'now');
  t.equal(stray.code, 2);
  t.match(stray.err, /unexpected argument: now/);
});
