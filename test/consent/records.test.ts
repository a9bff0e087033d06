import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import {
  type ConsentQuery,
  consentCoverage,
  findConsent,
  insertConsent,
  listConsents,
  type NewConsent,
  withdrawConsent,
} from '../../src/consent/records.js';
import { type Db, openStore } from '../../src/store/index.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * consentCoverage: which active records cover subject + purpose + holder agency + category, on both
 * backends. Every case starts from one covering record and changes one thing.
 */
const NHS = '9434765919';
const OTHER_NHS = '4010232137';
const PNC = '2001/0012345X';
const NOW = new Date('2026-03-10T12:00:00Z');

async function openDb(t: Test, backend: 'postgres' | 'pglite'): Promise<Db> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-consent-'));
  const database = backend === 'postgres' ? await createTestDatabase('sgw_test_consent') : undefined;
  const db = await openStore({ databaseUrl: database?.url, dataDir });
  t.teardown(async () => {
    await db.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return db;
}

const consent = (over: Partial<NewConsent> = {}): NewConsent => ({
  nhsNumber: NHS,
  subject: { type: 'child', nhsNumber: NHS },
  givenBy: { relationship: 'parent', name: 'A Parent' },
  status: 'given',
  purposes: ['early_help', 's17_assessment'],
  validFrom: '2026-01-01T00:00:00Z',
  evidence: 'Signed form, scanned to the case file.',
  recordedBy: { agency: 'csc-north', sub: 'sw-1' },
  ...over,
});

const query = (over: Partial<ConsentQuery> = {}): ConsentQuery => ({
  nhsNumber: NHS,
  purpose: 'early_help',
  holderAgency: 'gp-riverside',
  categories: ['registration'],
  at: NOW,
  ...over,
});

/** Inserts a record whose recorded_at is set, so that "most recent" does not rest on clock resolution. */
async function add(db: Db, c: NewConsent, recordedAt = '2026-02-01T00:00:00Z'): Promise<string> {
  const id = await db.transaction((tx) => insertConsent(tx, c));
  await db.query('UPDATE consents SET recorded_at = $2 WHERE id = $1', [id, recordedAt]);
  return id;
}

const cover = async (db: Db, q: ConsentQuery) => Object.fromEntries(await consentCoverage(db, q));

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`consentCoverage (${backend})`, async (t) => {
    const db = await openDb(t, backend);

    t.test('a given record covers; nothing covers without one', async (t) => {
      t.same(await cover(db, query()), { registration: {} }, 'no record, no cover');
      const id = await add(db, consent());
      t.same(await cover(db, query()), { registration: { givenId: id } });
      t.same(await cover(db, query({ purpose: 's17_assessment' })), { registration: { givenId: id } });
      t.same(
        await cover(db, query({ categories: ['registration', 'attendances'] })),
        { registration: { givenId: id }, attendances: { givenId: id } },
        'absent categories = every category',
      );
      t.same(
        await cover(db, query({ holderAgency: 'police-county' })),
        { registration: { givenId: id } },
        'absent agencies = every agency',
      );
      await db.query('DELETE FROM consents');
    });

    t.test('what does not cover', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      const id = await add(
        db,
        consent({
          agencies: ['gp-riverside'],
          categories: ['registration', 'attendances'],
          validTo: '2026-06-01T00:00:00Z',
        }),
      );
      t.same(await cover(db, query()), { registration: { givenId: id } }, 'the baseline covers');
      t.same(await cover(db, query({ purpose: 's47_enquiry' })), { registration: {} }, 'another purpose');
      t.same(
        await cover(db, query({ holderAgency: 'police-county' })),
        { registration: {} },
        'another holder agency',
      );
      t.same(
        await cover(db, query({ categories: ['medications', 'attendances'] })),
        { medications: {}, attendances: { givenId: id } },
        'another category',
      );
      t.same(
        await cover(db, query({ at: new Date('2025-12-31T23:59:59Z') })),
        { registration: {} },
        'not yet valid',
      );
      t.same(
        await cover(db, query({ at: new Date('2026-01-01T00:00:00Z') })),
        { registration: { givenId: id } },
        'valid from its first instant',
      );
      t.same(
        await cover(db, query({ at: new Date('2026-06-01T00:00:00Z') })),
        { registration: {} },
        'expired at validTo',
      );
      t.same(await cover(db, query({ nhsNumber: OTHER_NHS })), { registration: {} }, 'another subject');
      await db.transaction((tx) => withdrawConsent(tx, id, 'Parent withdrew by phone.', 'csc-north'));
      t.same(await cover(db, query()), { registration: {} }, 'withdrawn');
    });

    t.test('the most recent record decides', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      const given = await add(db, consent(), '2026-02-01T00:00:00Z');
      const refused = await add(
        db,
        consent({ status: 'refused', categories: ['registration'] }),
        '2026-02-02T00:00:00Z',
      );
      t.same(
        await cover(db, query({ categories: ['registration', 'attendances'] })),
        { registration: { refusedId: refused }, attendances: { givenId: given } },
        'a later refusal of one category overrides the earlier consent for it only',
      );
      const givenAgain = await add(db, consent(), '2026-02-03T00:00:00Z');
      t.same(
        await cover(db, query()),
        { registration: { givenId: givenAgain } },
        'a later consent overrides the refusal',
      );
      await db.transaction((tx) => withdrawConsent(tx, givenAgain, 'Withdrawn.', 'csc-north'));
      t.same(
        await cover(db, query()),
        { registration: { refusedId: refused } },
        'withdrawing the latest brings back the one before',
      );
    });

    t.test('consentId restricts to the named record', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      const older = await add(db, consent(), '2026-02-01T00:00:00Z');
      const newer = await add(db, consent({ status: 'refused' }), '2026-02-02T00:00:00Z');
      t.same(await cover(db, query()), { registration: { refusedId: newer } });
      t.same(await cover(db, query({ consentId: older })), { registration: { givenId: older } });
      const other = await add(
        db,
        consent({ nhsNumber: OTHER_NHS, subject: { type: 'child', nhsNumber: OTHER_NHS } }),
      );
      t.same(
        await cover(db, query({ consentId: other })),
        { registration: {} },
        "another subject's record never covers",
      );
      t.same(
        await cover(db, query({ consentId: '00000000-0000-4000-8000-000000000000' })),
        { registration: {} },
        'an unknown id covers nothing',
      );
      t.same(
        await cover(db, query({ consentId: 'not-a-uuid' })),
        { registration: {} },
        'a malformed id covers nothing (and does not throw)',
      );
    });

    t.test('by PNC id; name-only subjects never match', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      const id = await add(
        db,
        consent({
          nhsNumber: undefined,
          pncId: PNC,
          subject: { type: 'adult', pncId: PNC, name: { given: 'Alex', family: 'Example' } },
          purposes: ['early_help'],
        }),
      );
      t.same(await cover(db, query({ nhsNumber: undefined, pncId: PNC })), { registration: { givenId: id } });
      t.same(await cover(db, query({ nhsNumber: NHS })), { registration: {} }, 'the NHS number is not his');
      t.same(
        await cover(db, query({ nhsNumber: undefined })),
        { registration: {} },
        'no identifier: nothing matches, even though a record exists',
      );
      t.equal((await db.query('SELECT 1 FROM consents')).length, 1, 'the record is there');
    });

    t.test('records: find, list, withdraw once', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      const a = await add(db, consent(), '2026-02-01T00:00:00Z');
      const b = await add(
        db,
        consent({ pncId: PNC, subject: { type: 'child', nhsNumber: NHS, pncId: PNC } }),
        '2026-02-02T00:00:00Z',
      );
      t.same(
        (await listConsents(db, { nhsNumber: NHS })).map((r) => r.id),
        [a, b],
      );
      t.same(
        (await listConsents(db, { pncId: PNC })).map((r) => r.id),
        [b],
      );
      t.same(await listConsents(db, { nhsNumber: OTHER_NHS }), []);
      const found = await findConsent(db, a);
      t.match(found, {
        id: a,
        status: 'given',
        validFrom: '2026-01-01T00:00:00.000Z',
        recordedBy: { agency: 'csc-north' },
        recordedAt: '2026-02-01T00:00:00.000Z',
      });
      t.notOk(found?.withdrawn);
      t.equal(await db.transaction((tx) => withdrawConsent(tx, a, 'Withdrawn.', 'gp-riverside')), true);
      t.equal(await db.transaction((tx) => withdrawConsent(tx, a, 'Again.', 'gp-riverside')), false);
      t.match((await findConsent(db, a))?.withdrawn, { reason: 'Withdrawn.', byAgency: 'gp-riverside' });
    });
  });
}
