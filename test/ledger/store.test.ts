import t from 'tap';
import { AppError } from '../../src/http/errors.js';
import { canonicalEntry, chainHash, GENESIS_PREV_HASH } from '../../src/ledger/entry.js';
import {
  appendRecord,
  recordedTransaction,
  setSubjectKey,
  subjectRefs,
  verifyLedger,
} from '../../src/ledger/index.js';
import { consistencyProof, getEntry, inclusionProof, queryEntries } from '../../src/ledger/queries.js';
import { latestCheckpoint } from '../../src/ledger/sequencer.js';
import { loadSubjectKey } from '../../src/ledger/subject.js';
import { entry, GATEWAY_ID, ledgerFixture, NHS_DIGITS } from './fixtures/ledger.js';
import { mth, refLeaf, refVerifyConsistency, refVerifyInclusion, sha } from './fixtures/reference.js';

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`${backend}: entries, chain, stored tree and proofs for sizes 1..70`, async (t) => {
    const { db, ledger, certsDir } = await ledgerFixture(t, backend, { start: false });
    await ledger.start();
    // Uneven batches so the sequencer resumes from stored frontiers at every kind of boundary.
    let appended = 0;
    for (let batch = 1; appended < 70; batch++) {
      const n = Math.min(batch % 5 || 3, 70 - appended);
      await recordedTransaction(db, (tx) =>
        ledger.append(tx, { entries: Array.from({ length: n }, (_, i) => entry(appended + i)) }),
      );
      appended += n;
      await ledger.flush();
    }
    const entries = [];
    for (let seq = 1; seq <= 70; seq++) {
      const e = await getEntry(db, seq);
      if (!e) throw new Error(`entry ${seq} missing`);
      entries.push(e);
    }
    t.same(
      entries.map((e) => e.seq),
      Array.from({ length: 70 }, (_, i) => i + 1),
      'seq 1..70 without gaps',
    );
    t.equal(entries[0]!.prevHash, GENESIS_PREV_HASH);
    let prev = GENESIS_PREV_HASH;
    for (const e of entries) {
      const { hash, ...rest } = e;
      if (e.prevHash !== prev) t.fail(`link at ${e.seq}`);
      if (chainHash(prev, canonicalEntry(rest)) !== hash) t.fail(`hash at ${e.seq}`);
      if (sha(Buffer.from(prev, 'utf8'), canonicalEntry(rest)).toString('hex') !== hash)
        t.fail(`ref ${e.seq}`);
      prev = hash;
    }
    const raw = JSON.stringify(entries);
    t.notOk(raw.includes(NHS_DIGITS) || raw.includes('943 476'), 'no NHS number in the ledger');
    t.equal(entries[0]!.subjectRefs.length, 1);
    t.equal(entries[0]!.subjectRef, entries[0]!.subjectRefs[0]);

    const leaves = entries.map((e) => {
      const { hash: _h, ...rest } = e;
      return canonicalEntry(rest);
    });
    for (let n = 1; n <= 70; n++) {
      const root = mth(leaves.slice(0, n));
      for (let seq = 1; seq <= n; seq++) {
        const p = await inclusionProof(db, seq, n);
        if (p.leafIndex !== seq - 1 || p.leafHash !== refLeaf(leaves[seq - 1]!).toString('hex')) {
          t.fail(`leaf ${seq}`);
        }
        const path = p.auditPath.map((h) => Buffer.from(h, 'hex'));
        if (!refVerifyInclusion(p.leafIndex, n, Buffer.from(p.leafHash, 'hex'), path, root)) {
          t.fail(`inclusion of ${seq} in ${n}`);
        }
      }
      for (let m = 1; m <= n; m++) {
        const c = await consistencyProof(db, m, n);
        const proof = c.consistency.map((h) => Buffer.from(h, 'hex'));
        if (!refVerifyConsistency(m, n, mth(leaves.slice(0, m)), root, proof))
          t.fail(`consistency ${m}->${n}`);
      }
    }
    const cp = await latestCheckpoint(db);
    t.equal(cp?.treeSize, 70);
    t.equal(cp?.rootHash, mth(leaves).toString('hex'), 'checkpoint root is the reference root');
    const v = await verifyLedger(db, { certsDir, gatewayId: GATEWAY_ID });
    t.equal(v.ok, true, v.reason ?? 'verifies');
    t.equal(v.entries, 70);
    t.ok(v.checkpointsVerified >= 2);
  });

  t.test(`${backend}: append-only triggers refuse UPDATE, DELETE and TRUNCATE`, async (t) => {
    const { db, ledger, certsDir } = await ledgerFixture(t, backend);
    await recordedTransaction(db, (tx) => ledger.append(tx, { entries: [entry(1), entry(2)] }));
    await ledger.flush();
    const statements = [
      "UPDATE ledger_entries SET action = 'x' WHERE seq = 1",
      'DELETE FROM ledger_entries WHERE seq = 2',
      'TRUNCATE ledger_entries',
      "UPDATE ledger_checkpoints SET root_hash = 'x'",
      'DELETE FROM ledger_checkpoints',
      'TRUNCATE ledger_checkpoints',
      "UPDATE ledger_tree SET hash = 'x'",
      'DELETE FROM ledger_tree',
      'TRUNCATE ledger_tree',
      'DELETE FROM ledger_keys',
      'TRUNCATE ledger_keys CASCADE',
    ];
    for (const sql of statements) {
      await t.rejects(db.query(sql), /append-only/, sql);
    }
    const [n] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_entries');
    t.equal(n?.n, 2, 'still two entries');
    t.equal((await verifyLedger(db, { certsDir, gatewayId: GATEWAY_ID })).ok, true, 'and still verifies');
  });

  t.test(`${backend}: entries and events commit with the change, or not at all`, async (t) => {
    const { db, ledger } = await ledgerFixture(t, backend);
    await db.query('CREATE TABLE domain_things (id serial PRIMARY KEY, v text)');
    const { entryIds, eventIds } = await recordedTransaction(db, async (tx) => {
      await tx.query("INSERT INTO domain_things (v) VALUES ('a')");
      return ledger.append(tx, {
        entries: [entry(1)],
        events: [
          {
            agency: 'probation-region',
            type: 'flag.accessed',
            data: { flagId: 'f1' },
            inbox: { kind: 'event', ref: 'f1' },
          },
        ],
      });
    });
    t.equal(entryIds.length, 1);
    t.equal(eventIds.length, 1);
    const [ev] = await db.query<{ agency_id: string; type: string; unrelayed: boolean; data: unknown }>(
      'SELECT agency_id, type, relayed_at IS NULL AS unrelayed, data FROM outbox',
    );
    t.same(ev, {
      agency_id: 'probation-region',
      type: 'flag.accessed',
      unrelayed: true,
      data: { flagId: 'f1' },
    });
    const [item] = await db.query<{ id: string; agency_id: string; kind: string; ref: string; type: string }>(
      'SELECT id, agency_id, kind, ref, type FROM inbox_items',
    );
    t.same(
      item,
      { id: eventIds[0], agency_id: 'probation-region', kind: 'event', ref: 'f1', type: 'flag.accessed' },
      'the event is an inbox item of its recipient, under the event id',
    );

    await t.rejects(
      recordedTransaction(db, async (tx) => {
        await tx.query("INSERT INTO domain_things (v) VALUES ('b')");
        await ledger.append(tx, {
          entries: [entry(2)],
          events: [{ agency: 'x', type: 't', data: {}, inbox: { kind: 'event', ref: 'r' } }],
        });
        throw new Error('the domain change failed after the append');
      }),
      /domain change failed/,
    );
    await t.rejects(
      ledger.append(db, {
        entries: [],
        events: [
          { agency: 'x', type: 't', data: { child: { nhsNumber: '1' } }, inbox: { kind: 'event', ref: 'r' } },
        ],
      }),
      /references only/,
      'events refuse personal data',
    );
    const counts = await db.query<{ q: number; o: number; d: number }>(
      `SELECT (SELECT count(*)::int FROM ledger_queue) + (SELECT count(*)::int FROM ledger_entries) AS q,
              (SELECT count(*)::int FROM outbox) + (SELECT count(*)::int FROM inbox_items) AS o,
              (SELECT count(*)::int FROM domain_things) AS d`,
    );
    t.same(counts[0], { q: 1, o: 2, d: 1 }, 'the rolled-back change left nothing');
  });

  t.test(`${backend}: fail closed when the queue insert is refused`, async (t) => {
    const { db, ledger } = await ledgerFixture(t, backend);
    await db.query('CREATE TABLE disclosures (id serial PRIMARY KEY, v text)');
    // A test-only fault: the database itself refuses the ledger write, as a full disk or a bad trigger would.
    await db.query(`CREATE FUNCTION test_refuse_queue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
    await db.query(
      'CREATE TRIGGER test_refuse_queue BEFORE INSERT ON ledger_queue FOR EACH ROW EXECUTE FUNCTION test_refuse_queue()',
    );
    const err = await recordedTransaction(db, async (tx) => {
      await tx.query("INSERT INTO disclosures (v) VALUES ('released data')");
      await ledger.append(tx, {
        entries: [entry(1)],
        events: [{ agency: 'a', type: 't', data: { id: 1 }, inbox: { kind: 'event', ref: 'r' } }],
      });
      return 'disclosed';
    }).catch((e: unknown) => e);
    t.type(err, AppError);
    t.equal((err as AppError).code, 'audit_unavailable');
    t.equal((err as AppError).status, 503);
    t.notMatch((err as AppError).message, /disk full/, 'no internal message for the client');
    const [row] = await db.query<{ d: number; o: number }>(
      'SELECT (SELECT count(*)::int FROM disclosures) AS d, (SELECT count(*)::int FROM outbox) AS o',
    );
    t.same(row, { d: 0, o: 0 }, 'nothing was disclosed, no event left');
    await db.query('DROP TRIGGER test_refuse_queue ON ledger_queue');
    await recordedTransaction(db, (tx) => ledger.append(tx, { entries: [entry(2)] }));
    t.equal((await ledger.flush()).treeSize, 1, 'recovers once the fault is gone');
  });

  t.test(`${backend}: subject references`, async (t) => {
    const { db, ledger, certsDir } = await ledgerFixture(t, backend);
    await recordedTransaction(db, (tx) =>
      ledger.append(tx, {
        entries: [
          entry(1, { subject: { nhsNumber: '9434765919', pncId: '2001/0012345x' } }),
          entry(2, { subject: { pncId: ' 2001/0012345X ' } }),
          entry(3, { subject: { name: { given: ' Jo ', family: 'SMITH' }, dateOfBirth: '2015-01-02' } }),
          entry(4, { subject: null }),
        ],
      }),
    );
    await ledger.flush();
    setSubjectKey(loadSubjectKey(certsDir));
    const byNhs = await queryEntries(db, {
      viewer: 'police-county',
      subjectRefs: subjectRefs({ nhsNumber: '943 476 5919' }),
      limit: 10,
    });
    t.same(
      byNhs.map((e) => e.seq),
      [1],
    );
    const byPnc = await queryEntries(db, {
      viewer: 'police-county',
      subjectRefs: subjectRefs({ pncId: '2001/0012345X' }),
      limit: 10,
    });
    t.same(
      byPnc.map((e) => e.seq),
      [1, 2],
      'PNC ids are upper-cased and trimmed',
    );
    const byName = await queryEntries(db, {
      viewer: 'police-county',
      subjectRefs: subjectRefs({ name: { given: 'jo', family: 'Smith' }, dateOfBirth: '2015-01-02' }),
      limit: 10,
    });
    t.same(
      byName.map((e) => e.seq),
      [3],
    );
    const e4 = await getEntry(db, 4);
    t.equal(e4?.subjectRef, null);
    t.same(e4?.subjectRefs, []);
    const raw = JSON.stringify(await db.query('SELECT * FROM ledger_entries'));
    t.notMatch(raw, /9434765919|0012345|smith|2015-01-02/i, 'no identifier in plaintext');
    t.ok(await appendRecord(db, { entries: [] }), 'an empty record is harmless');
  });

  t.test(
    `${backend}: the later fields are in the chain, and parties in counterparts see the entry`,
    async (t) => {
      const { db, ledger, certsDir } = await ledgerFixture(t, backend);
      const commitment = 'ab'.repeat(32);
      await recordedTransaction(db, (tx) =>
        ledger.append(tx, {
          entries: [
            entry(1, {
              action: 'consent.recorded',
              actor: { agency: 'csc-north', sub: 'sw-1', role: 'social_worker' },
              counterpart: undefined,
              counterparts: ['gp-riverside', 'police-county'],
              consentId: 'c-1',
              consentIds: ['c-1', 'c-0'],
              concernId: 'k-1',
              flagId: 'f-1',
              outcome: 'early_help',
              commitments: { reason: commitment },
            }),
            entry(2, {
              action: 'consent.recorded',
              actor: { agency: 'csc-south', sub: 'sw-2', role: 'social_worker' },
              counterpart: undefined,
              counterparts: ['gp-riverside'],
            }),
          ],
        }),
      );
      await ledger.flush();
      const first = await getEntry(db, 1);
      t.match(first, {
        counterparts: ['gp-riverside', 'police-county'],
        consentId: 'c-1',
        consentIds: ['c-1', 'c-0'],
        concernId: 'k-1',
        flagId: 'f-1',
        outcome: 'early_help',
        commitments: { reason: commitment },
      });
      t.notOk('counterpart' in (first ?? {}), 'an absent field stays absent');
      const recomputed = chainHash(GENESIS_PREV_HASH, canonicalEntry(first!));
      t.equal(recomputed, first?.hash, 'the new fields are inside the hash');
      const seen = async (viewer: string) =>
        (await queryEntries(db, { viewer, limit: 10 })).map((e) => e.seq);
      t.same(await seen('police-county'), [1], 'a party named in counterparts sees the entry');
      t.same(await seen('gp-riverside'), [1, 2]);
      t.same(await seen('probation-region'), [], 'no party, nothing');
      t.same(await seen('csc-north'), [1], 'the actor');
      const filtered = async (viewer: string, agency: string) =>
        (await queryEntries(db, { viewer, agency, limit: 10 })).map((e) => e.seq);
      t.same(await filtered('gp-riverside', 'csc-south'), [2], 'the agency filter narrows to that agency');
      t.same(await filtered('csc-north', 'police-county'), [1], 'the agency filter looks at the parties too');
      await db
        .query('UPDATE ledger_entries SET commitments = \'{"reason": "00"}\'::jsonb WHERE seq = 1')
        .catch(() => undefined);
      t.equal((await verifyLedger(db, { certsDir, gatewayId: GATEWAY_ID })).ok, true, 'append-only held');
    },
  );
}
