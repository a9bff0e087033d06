import t from 'tap';
import { recordedTransaction, verifyLedger } from '../../src/ledger/index.js';
import { entry, GATEWAY_ID, ledgerFixture } from './fixtures.js';

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`smoke ${backend}`, async (t) => {
    const { db, ledger, certsDir } = await ledgerFixture(t, backend);
    for (let i = 0; i < 20; i++) {
      await recordedTransaction(db, (tx) => ledger.append(tx, { entries: [entry(i), entry(i + 100)] }));
    }
    const cp = await ledger.flush();
    t.equal(cp.treeSize, 40);
    const v = await verifyLedger(db, { certsDir, gatewayId: GATEWAY_ID });
    t.same(v.ok, true, JSON.stringify(v));
    t.equal(v.entries, 40);
  });
}
