import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { verifyLedger } from '../../src/ledger/index.js';
import { GATEWAY_ID, ledgerFixture } from './fixtures/ledger.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const execFileAsync = promisify(execFile);

async function runWorker(url: string, certsDir: string, count: number, tag: string): Promise<string[]> {
  const worker = path.join(here, 'fixtures', 'append-worker.ts');
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', worker, url, certsDir, String(count), '16', tag],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as string[];
}

t.test('two processes append concurrently to one chain: no gaps, forks or duplicates', async (t) => {
  const f = await ledgerFixture(t, 'postgres');
  const url = f.database!.url;
  const [a, b] = await Promise.all([
    runWorker(url, f.certsDir, 1000, 'a'),
    runWorker(url, f.certsDir, 1000, 'b'),
  ]);
  const expected = a.length + b.length;
  t.equal(expected, 3998, 'each process wrote 1999 entries in 1000 transactions');
  await f.ledger.flush();

  const [stats] = await f.db.query<{
    n: number;
    min: number;
    max: number;
    ids: number;
    hashes: number;
    prevs: number;
  }>(
    `SELECT count(*)::int AS n, min(seq) AS min, max(seq) AS max, count(DISTINCT id)::int AS ids,
            count(DISTINCT hash)::int AS hashes, count(DISTINCT prev_hash)::int AS prevs FROM ledger_entries`,
  );
  t.same(
    stats,
    { n: expected, min: 1, max: expected, ids: expected, hashes: expected, prevs: expected },
    'gapless, unique, one chain',
  );
  const [queue] = await f.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_queue');
  t.equal(queue?.n, 0, 'queue drained');
  const stored = new Set(
    (await f.db.query<{ id: string }>('SELECT id FROM ledger_entries')).map((r) => r.id),
  );
  t.ok(
    [...a, ...b].every((id) => stored.has(id)),
    'every appended entry is in the ledger exactly once',
  );
  const v = await verifyLedger(f.db, { certsDir: f.certsDir, gatewayId: GATEWAY_ID });
  t.equal(v.ok, true, v.reason ?? 'verifies');
  t.equal(v.entries, expected);
  t.ok(v.checkpointsVerified > 1, `${v.checkpointsVerified} checkpoints verified`);
});
