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

const CHILD = { type: 'child' as const, nhsNumber: NHS };

const query = (over: Partial<ConsentQuery> = {}): ConsentQuery => ({
  subject: CHILD,
  purpose: 'early_help',
  requesterAgency: 'csc-north',
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

/** Category -> "status:id" of the record that decides it, or null when none applies. */
const cover = async (db: Db, q: ConsentQuery) =>
  Object.fromEntries(
    [...(await consentCoverage(db, q))].map(([c, v]) => [
      c,
      v.record ? `${v.record.status}:${v.record.id}` : null,
    ]),
  );

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`consentCoverage (${backend})`, async (t) => {
    const db = await openDb(t, backend);

    t.test('a given record covers; nothing covers without one', async (t) => {
      t.same(await cover(db, query()), { registration: null }, 'no record, no cover');
      const id = await add(db, consent());
      t.same(await cover(db, query()), { registration: `given:${id}` });
      t.same(await cover(db, query({ purpose: 's17_assessment' })), { registration: `given:${id}` });
      t.same(
        await cover(db, query({ categories: ['registration', 'attendances'] })),
        { registration: `given:${id}`, attendances: `given:${id}` },
        'absent categories = every category',
      );
      t.same(
        await cover(db, query({ requesterAgency: 'csc-south', holderAgency: 'police-county' })),
        { registration: `given:${id}` },
        'absent agencies = every agency is a party, requester and holder alike',
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
      t.same(await cover(db, query()), { registration: `given:${id}` }, 'the baseline covers');
      t.same(await cover(db, query({ purpose: 's47_enquiry' })), { registration: null }, 'another purpose');
      t.same(
        await cover(db, query({ holderAgency: 'police-county' })),
        { registration: null },
        'a holder that is no party',
      );
      t.same(
        await cover(db, query({ requesterAgency: 'csc-south' })),
        { registration: null },
        'a requester that is no party (the record concerns csc-north and gp-riverside only)',
      );
      t.same(
        await cover(db, query({ categories: ['medications', 'attendances'] })),
        { medications: null, attendances: `given:${id}` },
        'another category',
      );
      t.same(
        await cover(db, query({ at: new Date('2025-12-31T23:59:59Z') })),
        { registration: null },
        'not yet valid',
      );
      t.same(
        await cover(db, query({ at: new Date('2026-01-01T00:00:00Z') })),
        { registration: `given:${id}` },
        'valid from its first instant',
      );
      t.same(
        await cover(db, query({ at: new Date('2026-06-01T00:00:00Z') })),
        { registration: null },
        'expired at validTo',
      );
      t.same(
        await cover(db, query({ subject: { type: 'child', nhsNumber: OTHER_NHS } })),
        { registration: null },
        'another subject',
      );
      await db.transaction((tx) => withdrawConsent(tx, id, 'Parent withdrew by phone.', 'csc-north'));
      t.same(await cover(db, query()), { registration: null }, 'withdrawn');
    });

    t.test('a record decides only the sharing between its parties', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      // csc-south records a refusal naming the GP: it is about csc-south's sharing with the GP only.
      const refusal = await add(
        db,
        consent({
          status: 'refused',
          agencies: ['gp-riverside'],
          recordedBy: { agency: 'csc-south', sub: 's' },
        }),
      );
      t.same(await cover(db, query()), { registration: null }, "csc-north's request: the refusal is not its");
      t.same(
        await cover(db, query({ requesterAgency: 'csc-south' })),
        { registration: `refused:${refusal}` },
        "csc-south's own request is decided by it",
      );
      t.same(
        await cover(db, query({ requesterAgency: 'gp-riverside', holderAgency: 'csc-south' })),
        { registration: `refused:${refusal}` },
        'both ways between the parties',
      );
      const given = await add(db, consent({ agencies: ['gp-riverside'] }), '2026-02-02T00:00:00Z');
      t.same(
        await cover(db, query({ requesterAgency: 'csc-south' })),
        { registration: `refused:${refusal}` },
        "csc-north's consent naming the GP does not unlock csc-south's request",
      );
      t.same(await cover(db, query()), { registration: `given:${given}` }, 'it unlocks csc-north’s');
    });

    t.test('a record is about one person', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      const adult = await add(
        db,
        consent({
          nhsNumber: undefined,
          pncId: PNC,
          subject: { type: 'adult', pncId: PNC },
          purposes: ['early_help'],
        }),
      );
      const adultQuery = { type: 'adult' as const, pncId: PNC };
      t.same(await cover(db, query({ subject: adultQuery })), { registration: `given:${adult}` });
      t.same(
        await cover(db, query({ subject: { type: 'child', nhsNumber: OTHER_NHS, pncId: PNC } })),
        { registration: null },
        "an adult's record by PNC id never decides for a child carrying that PNC id",
      );
      t.same(
        await cover(db, query({ subject: { type: 'adult', nhsNumber: OTHER_NHS, pncId: PNC } })),
        { registration: `given:${adult}` },
        'an identifier only the request carries does not differ',
      );
      const child = await add(
        db,
        consent({
          pncId: PNC,
          subject: { type: 'child', nhsNumber: NHS, pncId: PNC, dateOfBirth: '2015-04-01' },
        }),
      );
      t.same(
        await cover(db, query({ subject: { type: 'child', nhsNumber: OTHER_NHS, pncId: PNC } })),
        { registration: null },
        'the PNC id agrees but the NHS numbers differ',
      );
      t.same(
        await cover(db, query({ subject: { type: 'child', nhsNumber: NHS, dateOfBirth: '2015-04-02' } })),
        { registration: null },
        'the NHS number agrees but the dates of birth differ',
      );
      t.same(
        await cover(
          db,
          query({
            subject: {
              type: 'child',
              nhsNumber: NHS,
              dateOfBirth: '2015-04-01',
              name: { given: 'S', family: 'E' },
            },
          }),
        ),
        { registration: `given:${child}` },
        'everything both carry agrees',
      );
      t.same(
        await cover(db, query({ subject: { type: 'unborn', nhsNumber: NHS } })),
        { registration: null },
        'another kind of subject',
      );
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
        { registration: `refused:${refused}`, attendances: `given:${given}` },
        'a later refusal of one category overrides the earlier consent for it only',
      );
      const givenAgain = await add(db, consent(), '2026-02-03T00:00:00Z');
      t.same(
        await cover(db, query()),
        { registration: `given:${givenAgain}` },
        'a later consent overrides the refusal',
      );
      await db.transaction((tx) => withdrawConsent(tx, givenAgain, 'Withdrawn.', 'csc-north'));
      t.same(
        await cover(db, query()),
        { registration: `refused:${refused}` },
        'withdrawing the latest brings back the one before',
      );
    });

    t.test('name-only subjects never match', async (t) => {
      t.teardown(() => db.query('DELETE FROM consents'));
      await add(db, consent());
      t.same(
        await cover(
          db,
          query({ subject: { type: 'child', name: { given: 'S', family: 'E' }, dateOfBirth: '2015-04-01' } }),
        ),
        { registration: null },
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
