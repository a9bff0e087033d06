import { Pool } from 'undici';
import { openPostgres } from '../../src/store/postgres.js';
import type { BenchOptions } from './args.js';
import type { Cleanup } from './cleanup.js';
import { type ClosedResult, closedLoopWithCpu, openLoopWithCpu, type WithCpu } from './load.js';
import { spawnServer } from './processes.js';
import type { Summary } from './stats.js';
import type { Workspace } from './workspace.js';

export interface CeilingResult {
  closed: WithCpu<ClosedResult>;
  open: WithCpu<Summary>;
}

/**
 * Bare Fastify over the same HTTPS (certificate, TLS policy, client certificate, keep-alive) answering a
 * tiny JSON, from a process of its own: what this machine's TLS and HTTP stack give before any gateway
 * work, measured with the same load generator as the journeys.
 */
export async function measureCeiling(
  ws: Workspace,
  opts: BenchOptions,
  root: string,
  port: number,
  cleanup: Cleanup,
): Promise<CeilingResult> {
  const client = ws.tls.clients.values().next().value as { cert: string; key: string };
  const server = await spawnServer({
    name: 'Fastify ceiling',
    args: ['--import', 'tsx', 'scripts/bench/ceiling-server.ts'],
    env: { BENCH_CEILING_PORT: String(port), BENCH_CEILING_CERTS: ws.certsDir },
    cwd: root,
    port,
    readyPath: '/ceiling',
    tls: { ca: ws.tls.ca, ...client },
    cleanup,
  });
  const pool = new Pool(server.origin, {
    connections: opts.concurrency,
    pipelining: 1,
    connect: { ca: ws.tls.ca, cert: client.cert, key: client.key },
  });
  const op = async () => {
    const res = await pool.request({ path: '/ceiling', method: 'GET' });
    await res.body.dump();
    return res.statusCode === 200 ? ('ok' as const) : ('error' as const);
  };
  try {
    const pids = () => [server.pid];
    const closed = await closedLoopWithCpu(op, opts, pids);
    const open = await openLoopWithCpu(op, { rate: opts.rate, seconds: opts.openSeconds }, pids);
    return { closed, open };
  } finally {
    await pool.destroy();
    await server.stop();
  }
}

/**
 * The limit of a durable write: single-row INSERT transactions (BEGIN; INSERT; COMMIT) through the
 * gateway's own store code with its pool size, as many callers as the closed loop has, on the scratch
 * database the gateway uses.
 */
export async function measureInserts(ws: Workspace, opts: BenchOptions): Promise<WithCpu<ClosedResult>> {
  const db = openPostgres(ws.databaseUrl);
  try {
    await db.query(
      'CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), body jsonb NOT NULL)',
    );
    // About the size of a ledger queue row: an action, an actor, a subject hash, a decision.
    const row = JSON.stringify({
      action: 'flag.searched',
      actor: { agency: 'bench-police', sub: 'police_officer-1', role: 'police_officer' },
      subjectRef: 'a'.repeat(64),
      purpose: 'risk_to_children_check',
      decision: 'permit',
    });
    // The server here is PostgreSQL, whose backends come and go: only the bench's own CPU is counted.
    return await closedLoopWithCpu(
      async () => {
        await db.transaction((tx) => tx.query('INSERT INTO bench_plain (body) VALUES ($1)', [row]));
        return 'ok';
      },
      opts,
      () => [],
    );
  } finally {
    await db.close();
  }
}
