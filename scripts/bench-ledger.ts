/**
 * Ledgered append through the real write path (recordedTransaction + appendRecord, with the sequencer
 * running) against plain single-row INSERT transactions, on the same PostgreSQL in the same run, at 1, 8
 * and 32 concurrent writers. A ledgered run counts only once the sequencer has drained what was queued.
 *
 *   node --import tsx scripts/bench-ledger.ts        (BENCH_PG_ADMIN_URL, BENCH_SECONDS to override)
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createLedger, recordedTransaction } from '../src/ledger/index.js';
import { migrate } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres.js';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WRITERS = [1, 8, 32];

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function keys(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-bench-keys-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(path.join(dir, 'ledger-signing.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(path.join(dir, 'ledger-signing.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(path.join(dir, 'subject-hmac.key'), randomBytes(32).toString('hex'));
  return dir;
}

async function run(writers: number, op: () => Promise<unknown>): Promise<{ count: number; ms: number }> {
  const until = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let count = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < until) {
        await op();
        count++;
      }
    }),
  );
  return { count, ms: performance.now() - start };
}

const name = `sgw_bench_ledger_${randomBytes(4).toString('hex')}`;
const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
const certsDir = keys();
await admin(`CREATE DATABASE ${name}`);
const db = openPostgres(url, { max: 40 });
try {
  await migrate(db);
  await db.query(
    'CREATE TABLE bench_plain (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), body jsonb NOT NULL)',
  );
  const ledger = createLedger({ db, certsDir, gatewayId: 'bench' });
  await ledger.start();
  const body = {
    action: 'flag.searched',
    actor: { agency: 'police-county', sub: 'officer-1', role: 'police_officer' },
    counterpart: 'probation-region',
    subject: { nhsNumber: '9434765919' },
    purpose: 'risk_to_children_check',
    lawfulBasis: ['UK GDPR Art 6(1)(e)'],
    decision: 'permit' as const,
    ruleIds: ['police-risk-to-children-check'],
    policyVersion: 'bench',
    fields: { flags: ['flag', 'contact'] },
  };
  const plainRow = JSON.stringify({ ...body, subject: undefined });
  console.log(`PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')}, ${SECONDS} s per point`);
  console.log('writers  plain tps  ledgered tps  ratio  sequencer drain ms');
  for (const writers of WRITERS) {
    const plain = await run(writers, () =>
      db.transaction((tx) => tx.query('INSERT INTO bench_plain (body) VALUES ($1)', [plainRow])),
    );
    const ledgered = await run(writers, () =>
      recordedTransaction(db, (tx) => ledger.append(tx, { entries: [body] })),
    );
    const drainStart = performance.now();
    await ledger.flush();
    const drain = performance.now() - drainStart;
    const plainTps = plain.count / (plain.ms / 1000);
    const ledgerTps = ledgered.count / ((ledgered.ms + drain) / 1000);
    console.log(
      `${String(writers).padStart(7)}  ${plainTps.toFixed(0).padStart(9)}  ${ledgerTps.toFixed(0).padStart(12)}  ${(ledgerTps / plainTps).toFixed(2).padStart(5)}  ${drain.toFixed(0).padStart(18)}`,
    );
  }
  await ledger.stop();
  const [n] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_entries');
  console.log(`ledger entries written and sequenced: ${n?.n}`);
} finally {
  await db.close();
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  rmSync(certsDir, { recursive: true, force: true });
}
