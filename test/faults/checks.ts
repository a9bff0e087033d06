import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { until } from '../helpers/redis.js';
import type { Op, OpKind } from './load.js';

/**
 * What the suite holds the gateways to once the load and the faults are over, read from the database
 * directly (not through a gateway) and from what the webhook receiver got:
 * every success the client saw has its ledger entry; while PostgreSQL was away no answer was a 2xx;
 * every outbox event of an agency with a webhook arrived; `sgw audit verify` passes.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** What each journey's success must have left in the ledger. */
const ENTRY_OF: Record<OpKind, { action: string; column: 'request_id' | 'concern_id' | 'case_reference' }> = {
  'request.create': { action: 'request.created', column: 'request_id' },
  'request.release': { action: 'response.released', column: 'request_id' },
  'request.read': { action: 'disclosure.viewed', column: 'request_id' },
  'concern.submit': { action: 'concern.submitted', column: 'concern_id' },
  'flag.search': { action: 'flag.searched', column: 'case_reference' },
};

export interface Window {
  name: string;
  from: number;
  to: number;
}

export interface Missing {
  what: string;
  ref: string;
}

export interface Findings {
  ledgerMissing: Missing[];
  /** Answers given while PostgreSQL was away: status and code, counted. */
  duringOutage: Record<string, number>;
  /** 2xx answers given while PostgreSQL was away. */
  disclosedDuringOutage: number;
  eventsMissing: Missing[];
  eventsTotal: number;
  deadLetters: number;
  verify: { ok: boolean; entries?: number; reason?: string };
}

const succeeded = (op: Op) =>
  op.kind === 'request.read' ? op.disclosed : op.status >= 200 && op.status < 300;

/** The key a success is found by in the ledger. */
const keyOf = (op: Op) => (ENTRY_OF[op.kind].column === 'case_reference' ? op.caseReference : op.id);

async function ledgerMissing(db: pg.Client, ops: readonly Op[]): Promise<Missing[]> {
  const missing: Missing[] = [];
  for (const kind of Object.keys(ENTRY_OF) as OpKind[]) {
    const { action, column } = ENTRY_OF[kind];
    const wanted = new Map<string, number>();
    for (const op of ops) {
      const key = op.kind === kind && succeeded(op) ? keyOf(op) : undefined;
      if (key) wanted.set(key, (wanted.get(key) ?? 0) + 1);
    }
    if (wanted.size === 0) continue;
    const { rows } = await db.query<{ key: string; n: number }>(
      `SELECT ${column} AS key, count(*)::int AS n FROM ledger_entries
        WHERE action = $1 AND ${column} = ANY($2) GROUP BY ${column}`,
      [action, [...wanted.keys()]],
    );
    const found = new Map(rows.map((r) => [r.key, r.n]));
    // A read is a disclosure each time: as many entries as reads the client saw succeed, at least.
    for (const [key, n] of wanted) {
      const short = n - (found.get(key) ?? 0);
      for (let i = 0; i < short; i++) missing.push({ what: `${kind} without ${action}`, ref: key });
    }
  }
  return missing;
}

/** Waits until the sequencer has chained every committed ledger write. */
async function ledgerSettled(db: pg.Client, ms: number): Promise<boolean> {
  return until(async () => {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_queue');
    return rows[0]?.n === 0;
  }, ms);
}

async function eventsMissing(
  db: pg.Client,
  accepted: ReadonlySet<string>,
  agencies: readonly string[],
  settleMs: number,
): Promise<{ missing: Missing[]; total: number }> {
  const read = async () =>
    (
      await db.query<{ event_id: string; type: string; relayed: boolean }>(
        `SELECT event_id::text, type, relayed_at IS NOT NULL AS relayed FROM outbox
          WHERE agency_id = ANY($1) ORDER BY id`,
        [agencies],
      )
    ).rows;
  await until(async () => (await read()).every((e) => accepted.has(e.event_id)), settleMs);
  const rows = await read();
  const missing = rows
    .filter((e) => !accepted.has(e.event_id))
    .map((e) => ({
      what: `${e.type} event ${e.relayed ? 'relayed, never delivered' : 'never relayed'}`,
      ref: e.event_id,
    }));
  return { missing, total: rows.length };
}

const execNode = promisify(execFile);

/** `sgw audit verify` as an operator runs it, on the database directly (exit 1 still prints its report). */
async function auditVerify(env: Record<string, string>): Promise<Findings['verify']> {
  const args = [path.join(ROOT, 'dist', 'cli', 'main.js'), 'audit', 'verify'];
  const options = { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'silent' } };
  let stdout: string;
  let failure: string | undefined;
  try {
    ({ stdout } = await execNode(process.execPath, args, options));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    stdout = e.stdout ?? '';
    failure = `exit ${e.code}: ${(e.stderr ?? '').trim()}`;
  }
  try {
    const r = JSON.parse(stdout) as { ok: boolean; entries: number; reason?: string };
    return {
      ok: failure === undefined && r.ok,
      entries: r.entries,
      ...(r.reason ? { reason: r.reason } : {}),
    };
  } catch {
    return { ok: false, reason: failure ?? 'no report on standard output' };
  }
}

export interface CheckOptions {
  databaseUrl: string;
  ops: readonly Op[];
  /** When PostgreSQL refused the gateways: answers to calls made wholly inside must not be a 2xx. */
  pgAway: readonly Window[];
  /** The event ids the webhook receiver accepted (answered 2xx): a refused delivery has not arrived. */
  accepted: ReadonlySet<string>;
  webhookAgencies: readonly string[];
  settleMs: number;
  /** The environment `sgw audit verify` runs with (certs folder, gateway id, the database directly). */
  verifyEnv: Record<string, string>;
}

export async function check(opts: CheckOptions): Promise<Findings> {
  const db = new pg.Client({ connectionString: opts.databaseUrl });
  await db.connect();
  try {
    if (!(await ledgerSettled(db, opts.settleMs))) throw new Error('the ledger queue never drained');
    const inside = opts.ops.filter((op) => opts.pgAway.some((w) => op.started >= w.from && op.ended <= w.to));
    const duringOutage: Record<string, number> = {};
    for (const op of inside) {
      const key = `${op.status} ${op.code ?? op.error ?? ''}`.trim();
      duringOutage[key] = (duringOutage[key] ?? 0) + 1;
    }
    const events = await eventsMissing(db, opts.accepted, opts.webhookAgencies, opts.settleMs);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_dead_letters');
    return {
      ledgerMissing: await ledgerMissing(db, opts.ops),
      duringOutage,
      disclosedDuringOutage: inside.filter((op) => op.status >= 200 && op.status < 300).length,
      eventsMissing: events.missing,
      eventsTotal: events.total,
      deadLetters: rows[0]?.n ?? 0,
      verify: await auditVerify(opts.verifyEnv),
    };
  } finally {
    await db.end();
  }
}
