import t, { type Test } from 'tap';
import { recordedTransaction, verifyLedger } from '../../src/ledger/index.js';
import { entry, GATEWAY_ID, type LedgerFixture, ledgerFixture } from './fixtures/ledger.js';

/** Tampering as a superuser would: the append-only triggers switched off for the duration. */
async function tamper(f: LedgerFixture, ...statements: string[]) {
  await f.db.transaction(async (tx) => {
    await tx.query('ALTER TABLE ledger_entries DISABLE TRIGGER ALL');
    for (const sql of statements) await tx.query(sql);
    await tx.query('ALTER TABLE ledger_entries ENABLE TRIGGER ALL');
  });
}

async function populated(t: Test): Promise<LedgerFixture> {
  const f = await ledgerFixture(t, 'postgres');
  for (let i = 0; i < 3; i++) {
    await recordedTransaction(f.db, (tx) =>
      f.ledger.append(tx, { entries: Array.from({ length: 10 }, (_, j) => entry(i * 10 + j)) }),
    );
    await f.ledger.flush();
  }
  const v = await verifyLedger(f.db, { certsDir: f.certsDir, gatewayId: GATEWAY_ID });
  t.equal(v.ok, true, 'intact before tampering');
  t.equal(v.entries, 30);
  return f;
}

const verify = (f: LedgerFixture) => verifyLedger(f.db, { certsDir: f.certsDir, gatewayId: GATEWAY_ID });

t.test('a changed field is found at its seq', async (t) => {
  const f = await populated(t);
  await tamper(f, "UPDATE ledger_entries SET purpose = 's47_enquiry' WHERE seq = 7");
  const v = await verify(f);
  t.equal(v.ok, false);
  t.equal(v.firstBadSeq, 7);
});

t.test('a changed field with its hash recomputed is still found at its seq', async (t) => {
  const f = await populated(t);
  const [row] = await f.db.query<{ hash: string; prev_hash: string }>(
    'SELECT hash, prev_hash FROM ledger_entries WHERE seq = 12',
  );
  // Rewrite the actor and give the entry a fresh, self-consistent-looking hash.
  await tamper(
    f,
    "UPDATE ledger_entries SET actor_agency = 'someone-else' WHERE seq = 12",
    `UPDATE ledger_entries SET hash = md5(random()::text) || md5(random()::text) WHERE seq = 12 AND hash = '${row?.hash}'`,
  );
  const v = await verify(f);
  t.equal(v.ok, false);
  t.equal(v.firstBadSeq, 12);
});

t.test('a deleted row is found at its seq', async (t) => {
  const f = await populated(t);
  await tamper(f, 'DELETE FROM ledger_entries WHERE seq = 18');
  const v = await verify(f);
  t.equal(v.ok, false);
  t.equal(v.firstBadSeq, 18);
  t.match(v.reason, /18/);
});

t.test('two swapped rows are found at the first of them', async (t) => {
  const f = await populated(t);
  await tamper(
    f,
    'UPDATE ledger_entries SET seq = 1000 WHERE seq = 5',
    'UPDATE ledger_entries SET seq = 5 WHERE seq = 9',
    'UPDATE ledger_entries SET seq = 9 WHERE seq = 1000',
  );
  const v = await verify(f);
  t.equal(v.ok, false);
  t.equal(v.firstBadSeq, 5);
});

t.test('a row overwritten with the content of another is found at its seq', async (t) => {
  const f = await populated(t);
  const cols = 'action = s.action, actor_sub = s.actor_sub, purpose = s.purpose';
  await tamper(
    f,
    `UPDATE ledger_entries e SET ${cols} FROM (SELECT * FROM ledger_entries WHERE seq = 3) s WHERE e.seq = 22`,
  );
  const v = await verify(f);
  t.equal(v.ok, false);
  t.equal(v.firstBadSeq, 22);
});

t.test('a removed tail is found past the last entry the checkpoint covers', async (t) => {
  const f = await populated(t);
  await tamper(f, 'DELETE FROM ledger_entries WHERE seq >= 29');
  const v = await verify(f);
  t.equal(v.ok, false);
  t.equal(v.firstBadSeq, 29);
});

t.test('a forged checkpoint signature is refused', async (t) => {
  const f = await populated(t);
  await f.db.transaction(async (tx) => {
    await tx.query('ALTER TABLE ledger_checkpoints DISABLE TRIGGER ALL');
    await tx.query(
      "UPDATE ledger_checkpoints SET timestamp = '2030-01-01T00:00:00.000Z' WHERE id = (SELECT max(id) FROM ledger_checkpoints)",
    );
    await tx.query('ALTER TABLE ledger_checkpoints ENABLE TRIGGER ALL');
  });
  const v = await verify(f);
  t.equal(v.ok, false);
  t.match(v.reason, /signature/);
  t.equal((await f.ledger.health()).ok, false, 'health reports the bad checkpoint');
});
