import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLedger, type Ledger } from '../../src/ledger/index.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

export const GATEWAY_ID = 'sgw-test';

/** The ledger's key files, as `sgw ca init` writes them, in a temporary folder. */
export function makeLedgerKeys(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-ledger-keys-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(path.join(dir, 'ledger-signing.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  writeFileSync(path.join(dir, 'ledger-signing.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(path.join(dir, 'subject-hmac.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
  return dir;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface LedgerFixture {
  db: Db;
  ledger: Ledger;
  certsDir: string;
  database?: TestDatabase;
}

/** A migrated database (a fresh one on the local PostgreSQL, or PGlite in a temporary folder) and a ledger. */
export async function ledgerFixture(
  t: Teardown,
  backend: 'postgres' | 'pglite',
  opts: { certsDir?: string; start?: boolean } = {},
): Promise<LedgerFixture> {
  const certsDir = opts.certsDir ?? makeLedgerKeys();
  let db: Db;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  if (backend === 'postgres') {
    database = await createTestDatabase('sgw_test_ledger');
    db = openPostgres(database.url, { max: 40 });
  } else {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-ledger-pglite-'));
    db = await openPglite(dataDir);
  }
  await migrate(db);
  const ledger = createLedger({ db, certsDir, gatewayId: GATEWAY_ID, intervalMs: 50 });
  if (opts.start !== false) await ledger.start();
  t.teardown(async () => {
    await ledger.stop();
    await db.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (!opts.certsDir) rmSync(certsDir, { recursive: true, force: true });
  });
  const fixture: LedgerFixture = { db, ledger, certsDir };
  if (database) fixture.database = database;
  return fixture;
}

export const NHS = '943 476 5919';
export const NHS_DIGITS = '9434765919';

export function entry(i: number, over: Partial<import('../../src/ledger/index.js').LedgerEntryInput> = {}) {
  return {
    action: 'flag.searched',
    actor: { agency: 'police-county', sub: `officer-${i % 7}`, role: 'police_officer' },
    counterpart: 'probation-region',
    subject: { nhsNumber: NHS },
    purpose: 'risk_to_children_check',
    lawfulBasis: ['UK GDPR Art 6(1)(e)'],
    decision: 'permit' as const,
    ruleIds: ['police-risk-to-children-check'],
    policyVersion: 'v1',
    fields: { flags: ['flag', 'contact'] },
    categories: ['flags'],
    ...over,
  };
}
