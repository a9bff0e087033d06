import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AppError } from '../../src/http/errors.js';
import { exportLedger, proveEntry, recordedTransaction } from '../../src/ledger/index.js';
import { openPostgres } from '../../src/store/postgres.js';
import { entry, GATEWAY_ID, ledgerFixture } from './fixtures/ledger.js';

const run = promisify(execFile);
const script = path.resolve('scripts/verify-receipt.mjs');

t.test('receipts verify offline with plain Node; a changed receipt does not', async (t) => {
  const f = await ledgerFixture(t, 'postgres');
  await recordedTransaction(f.db, (tx) =>
    f.ledger.append(tx, {
      entries: Array.from({ length: 13 }, (_, i) => entry(i, { caseReference: `C-${i}` })),
    }),
  );
  await f.ledger.flush();
  const receipt = await proveEntry(f.db, 6, { certsDir: f.certsDir, gatewayId: GATEWAY_ID });
  t.ok(receipt);
  t.equal(receipt?.checkpoint.treeSize, 13);
  const dir = t.testdir({});
  const file = path.join(dir, 'receipt.json');
  writeFileSync(file, JSON.stringify(receipt));
  const ok = await run(process.execPath, [
    script,
    file,
    '--key',
    path.join(f.certsDir, 'ledger-signing.pub'),
  ]);
  t.match(ok.stdout, /receipt for entry 6 verified/);

  const forged = structuredClone(receipt!);
  forged.entry.caseReference = 'C-999';
  writeFileSync(file, JSON.stringify(forged));
  const bad = await run(process.execPath, [script, file]).catch((e: { code: number; stdout: string }) => e);
  t.equal((bad as { code: number }).code, 1);
  t.match((bad as { stdout: string }).stdout, /FAIL entry hash/);
  t.equal(await proveEntry(f.db, 999, { certsDir: f.certsDir, gatewayId: GATEWAY_ID }), null);

  const lines: string[] = [];
  t.equal(await exportLedger(f.db, { from: '3', to: '5' }, (l) => void lines.push(l)), 3);
  t.same(
    lines.map((l) => JSON.parse(l).seq),
    [3, 4, 5],
  );
  t.equal(await exportLedger(f.db, { from: '2000-01-01T00:00:00Z' }, () => {}), 13);

  // Run as another gateway (a wrong SGW_GATEWAY_ID), prove must not sign a checkpoint no one can verify.
  await recordedTransaction(f.db, (tx) => f.ledger.append(tx, { entries: [entry(20)] }));
  await f.ledger.flush();
  const before = await f.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_checkpoints');
  await t.rejects(
    proveEntry(f.db, 14, { certsDir: f.certsDir, gatewayId: 'another-gateway' }),
    /not signed as gateway "another-gateway": set SGW_GATEWAY_ID/,
  );
  t.same(
    await f.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_checkpoints'),
    before,
    'no checkpoint was signed under the wrong id',
  );
});

t.test('fail closed when the database connection dies inside the transaction', async (t) => {
  const f = await ledgerFixture(t, 'postgres');
  await f.db.query('CREATE TABLE disclosures (id serial PRIMARY KEY, v text)');
  const killer = openPostgres(f.database!.url, { max: 1 });
  t.teardown(() => killer.close());
  const err = await recordedTransaction(f.db, async (tx) => {
    await tx.query("INSERT INTO disclosures (v) VALUES ('released')");
    const [me] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await killer.query('SELECT pg_terminate_backend($1)', [me?.pid]);
    await f.ledger.append(tx, { entries: [entry(1)] });
    return 'disclosed';
  }).catch((e: unknown) => e);
  t.type(err, AppError);
  t.equal((err as AppError).code, 'audit_unavailable');
  const [row] = await f.db.query<{ d: number; q: number }>(
    'SELECT (SELECT count(*)::int FROM disclosures) AS d, (SELECT count(*)::int FROM ledger_queue) AS q',
  );
  t.same(row, { d: 0, q: 0 }, 'nothing committed');
});
