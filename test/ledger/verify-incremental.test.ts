import t, { type Test } from 'tap';
import { createVerifier, recordedTransaction, type Verifier } from '../../src/ledger/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import { CSC, POLICE, validNhsNumberFrom } from '../helpers/ids.js';
import { entry, type LedgerFixture, ledgerFixture } from './fixtures/ledger.js';

/**
 * GET /v1/audit/verify verifies incrementally: from the head it last verified (kept in memory), only
 * the entries and checkpoints added since. A fault among the new entries is found; a fault in an entry
 * verified before is found by the full check (`full: true`), after which the verifier starts over.
 */
async function add(f: LedgerFixture, n: number, from: number): Promise<void> {
  await recordedTransaction(f.db, (tx) =>
    f.ledger.append(tx, { entries: Array.from({ length: n }, (_, j) => entry(from + j)) }),
  );
  await f.ledger.flush();
}

/** Tampering as a superuser would: the append-only triggers switched off for the duration. */
async function tamper(f: LedgerFixture, sql: string): Promise<void> {
  await f.db.transaction(async (tx) => {
    await tx.query('ALTER TABLE ledger_entries DISABLE TRIGGER ALL');
    await tx.query(sql);
    await tx.query('ALTER TABLE ledger_entries ENABLE TRIGGER ALL');
  });
}

const verifierOf = (f: LedgerFixture): Verifier =>
  createVerifier(f.db, { gatewayId: f.ledger.gatewayId, signingKey: f.ledger.signingKey });

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`a second call checks only what was added (${backend})`, async (t) => {
    const f = await ledgerFixture(t, backend);
    const verifier = verifierOf(f);
    await add(f, 30, 0);
    const first = await verifier.verify();
    t.match(first, { ok: true, entries: 30, checked: 30, incremental: false });
    await add(f, 10, 30);
    await add(f, 5, 40);
    const second = await verifier.verify();
    t.match(second, { ok: true, entries: 45, checked: 15, incremental: true });
    t.equal(second.head?.seq, 45);
    t.ok(second.checkpointsVerified > first.checkpointsVerified, 'the new checkpoints were checked');
    t.match(await verifier.verify(), { ok: true, entries: 45, checked: 0, incremental: true }, 'nothing new');
    t.match(await verifier.verify({ full: true }), {
      ok: true,
      entries: 45,
      checked: 45,
      incremental: false,
    });
  });
}

async function verified(t: Test): Promise<{ f: LedgerFixture; verifier: Verifier }> {
  const f = await ledgerFixture(t, 'postgres');
  const verifier = verifierOf(f);
  await add(f, 20, 0);
  t.match(await verifier.verify(), { ok: true, entries: 20 });
  return { f, verifier };
}

t.test('tampering with a new entry is found by the incremental check', async (t) => {
  const { f, verifier } = await verified(t);
  await add(f, 10, 20);
  await tamper(f, "UPDATE ledger_entries SET purpose = 'early_help' WHERE seq = 24");
  const r = await verifier.verify();
  t.match(r, { ok: false, firstBadSeq: 24, incremental: true });
  t.match(await verifier.verify(), { ok: false, firstBadSeq: 24 }, 'and again: a failure is not forgotten');
});

t.test('a removed tail and a rewritten verified head are found', async (t) => {
  const { f, verifier } = await verified(t);
  await tamper(f, 'DELETE FROM ledger_entries WHERE seq = 20');
  const r = await verifier.verify();
  t.match(r, { ok: false, firstBadSeq: 20 }, 'the last verified entry is gone');
});

t.test('the verified head rewritten with a fresh hash falls back to the full check', async (t) => {
  const { f, verifier } = await verified(t);
  await tamper(
    f,
    "UPDATE ledger_entries SET actor_agency = 'someone-else', hash = md5('x') || md5('y') WHERE seq = 20",
  );
  t.match(await verifier.verify(), { ok: false, firstBadSeq: 20, incremental: false });
});

t.test('tampering with an old entry is found by the full check, which then sticks', async (t) => {
  const { f, verifier } = await verified(t);
  await add(f, 5, 20);
  await tamper(f, "UPDATE ledger_entries SET purpose = 'early_help' WHERE seq = 3");
  const full = await verifier.verify({ full: true });
  t.match(full, { ok: false, firstBadSeq: 3, incremental: false });
  t.match(
    await verifier.verify(),
    { ok: false, firstBadSeq: 3, incremental: false },
    'after a failed full check the next call checks everything again',
  );
});

t.test('GET /v1/audit/verify over HTTPS: incremental, and ?full=true for the whole ledger', async (t) => {
  const gw = await startTestGateway(t);
  const ask = () =>
    gw.call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: POLICE,
      subject: { type: 'child', nhsNumber: validNhsNumberFrom(972_200_000) },
      purpose: 's47_enquiry',
      categories: ['incidents'],
      justification: 's47 enquiry opened',
    });
  t.equal((await ask()).status, 201);
  const verify = (query = '') => gw.call(CSC, 'auditor', 'GET', `/v1/audit/verify${query}`);
  const first = await verify();
  t.equal(first.status, 200, first.text);
  t.match(first.json, { ok: true, incremental: false, pending: 0 });
  t.equal(first.json.checked, first.json.entries, 'the first call checks everything');
  for (let i = 0; i < 3; i++) t.equal((await ask()).status, 201);
  const second = (await verify()).json;
  t.match(second, { ok: true, incremental: true, pending: 0 });
  t.equal(second.entries, first.json.entries + 3, 'three new entries');
  t.equal(second.checked, 3, 'and only they were checked');
  const full = (await verify('?full=true')).json;
  t.match(full, { ok: true, incremental: false, entries: second.entries, checked: second.entries });
  t.equal((await verify('?full=maybe')).status, 400);
  t.equal((await gw.call(CSC, 'social_worker', 'GET', '/v1/audit/verify')).status, 403, 'auditors only');
});
