import path from 'node:path';
import type { BenchOptions } from './args.js';
import type { Cleanup } from './cleanup.js';
import { type Child, spawnServer } from './processes.js';
import { REDIS_URL, type Workspace } from './workspace.js';

/**
 * The gateway under test, as an operator runs it: `node dist/cli/main.js serve` in a process of its own,
 * on the scratch database, the shared Redis under this run's gateway id, logging nothing. The rate
 * limits are lifted: they protect a county's gateway from one runaway client, and the bench is that
 * client (the limiter's Redis round trip still runs on every request).
 */
export function startGatewayProcess(
  name: string,
  ws: Workspace,
  opts: BenchOptions,
  root: string,
  port: number,
  cleanup: Cleanup,
): Promise<Child> {
  const profile = opts.profileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${path.resolve(opts.profileDir)}`,
        `--cpu-prof-name=${name.replace(/\W+/g, '-')}.cpuprofile`,
      ]
    : [];
  return spawnServer({
    name,
    args: [...profile, path.join('dist', 'cli', 'main.js'), 'serve'],
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      SGW_CERTS_DIR: ws.certsDir,
      SGW_DATA_DIR: ws.dataDir,
      SGW_POLICIES_DIR: path.join(root, 'policies'),
      DATABASE_URL: ws.databaseUrl,
      REDIS_URL,
      SGW_GATEWAY_ID: ws.gatewayId,
      LOG_LEVEL: 'silent',
      SGW_RATE_LIMIT_PER_PRACTITIONER: '1000000000',
      SGW_RATE_LIMIT_PER_AGENCY: '1000000000',
    },
    cwd: root,
    port,
    readyPath: '/health/ready',
    tls: { ca: ws.tls.ca },
    cleanup,
  });
}

/** How many flags the searches run against, and the pause that lets the ledger's sequencer catch up. */
export function sizes(opts: BenchOptions): { flags: number; settleMs: number } {
  return opts.quick ? { flags: 100, settleMs: 200 } : { flags: 2000, settleMs: 1000 };
}
