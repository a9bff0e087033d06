import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PolicyBundleError, PolicyStore } from '../../src/policy/store.js';
import { rule, tempBundle } from './fixtures.js';

function recorder() {
  const lines: Array<{ level: string; obj: object; msg?: string }> = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, ...(msg ? { msg } : {}) });
    };
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

async function until(check: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

t.test('open refuses a bad bundle with every error', async (t) => {
  const dir = tempBundle(t, { 'a.yaml': rule('a', '  gossip: "*"'), 'b.yaml': rule('a') });
  const err = (await PolicyStore.open(dir, recorder()).catch((e: unknown) => e)) as PolicyBundleError;
  t.type(err, PolicyBundleError);
  t.equal(err.errors.length, 2);
  t.match(err.message, /a\.yaml:10: rule a: unknown category "gossip"/);
});

t.test('hot reload within 5 s at the default poll; a failed reload keeps the old bundle', async (t) => {
  const dir = tempBundle(t, { 'a.yaml': rule('a') });
  const { lines, logger } = recorder();
  const store = await PolicyStore.open(dir, { logger });
  t.teardown(() => store.close());
  const first = store.current();
  const firstLoadedAt = store.loadedAt;
  t.equal(first.rules.length, 1);
  t.match(lines[0], { level: 'info', msg: 'policy bundle loaded' });

  writeFileSync(path.join(dir, 'b.yaml'), rule('b'));
  const took = await until(() => store.current() !== first, 5000);
  t.ok(took < 5000, `reloaded in ${took} ms`);
  t.same(
    store.current().rules.map((r) => r.id),
    ['a', 'b'],
  );
  t.ok(store.loadedAt > firstLoadedAt);
  t.match(lines.at(-1), {
    level: 'info',
    msg: 'policy bundle reloaded',
    obj: { previousVersion: first.version },
  });

  const second = store.current();
  writeFileSync(path.join(dir, 'c.yaml'), rule('a'));
  await until(() => lines.some((l) => l.level === 'error'), 5000);
  t.equal(store.current(), second, 'the old bundle stays in force');
  const refusal = lines.find((l) => l.level === 'error')!;
  t.equal(refusal.msg, 'policy reload refused; keeping the bundle in force');
  t.match(JSON.stringify(refusal.obj), /c\.yaml.*duplicate rule id/);

  // Fixing the folder loads again.
  rmSync(path.join(dir, 'c.yaml'));
  writeFileSync(path.join(dir, 'd.yaml'), rule('d'));
  await until(() => store.current() !== second, 5000);
  t.same(
    store.current().rules.map((r) => r.id),
    ['a', 'b', 'd'],
  );
});

t.test('a refused state is logged once, not every poll; whitespace edits keep the version', async (t) => {
  const dir = tempBundle(t, { 'a.yaml': rule('a') });
  const { lines, logger } = recorder();
  const store = await PolicyStore.open(dir, { logger, pollMs: 30 });
  t.teardown(() => store.close());
  const first = store.current();
  writeFileSync(path.join(dir, 'a.yaml'), `# only a comment\n${rule('a')}\n\n`);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(store.current(), first, 'same version: the bundle object is kept');
  writeFileSync(path.join(dir, 'bad.yaml'), 'id: [');
  await until(() => lines.some((l) => l.level === 'error'), 2000);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(lines.filter((l) => l.level === 'error').length, 1);
});

t.test('reload() applies now and reports why it refused', async (t) => {
  const dir = tempBundle(t, { 'a.yaml': rule('a') });
  const { logger } = recorder();
  const store = await PolicyStore.open(dir, { logger, pollMs: 60_000 });
  t.teardown(() => store.close());
  writeFileSync(path.join(dir, 'b.yaml'), rule('b'));
  const ok = await store.reload();
  t.ok(ok.ok);
  t.equal(store.current().rules.length, 2);
  writeFileSync(path.join(dir, 'b.yaml'), rule('b', '  gossip: "*"'));
  const bad = await store.reload();
  t.equal(bad.ok, false);
  t.equal(store.current().rules.length, 2);
  rmSync(dir, { recursive: true, force: true });
  const gone = await store.reload();
  t.equal(gone.ok, false);
  t.equal(store.version, store.current().version);
});
