import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function newestMtime(file: string): number {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

/**
 * The gateway under test is the built one (`node dist/cli/main.js serve`): build when dist is missing
 * or older than a source, the lockfile or a tsconfig, so that the bench never measures stale code.
 */
export function ensureBuilt(root: string): void {
  const built = newestMtime(path.join(root, 'dist', 'cli', 'main.js'));
  const sources = Math.max(
    ...['src', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) =>
      newestMtime(path.join(root, f)),
    ),
  );
  if (built > 0 && built >= sources) return;
  console.log('bench: dist is missing or older than src; building (npm run build)');
  const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}
