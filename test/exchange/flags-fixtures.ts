import type { TestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';
import { CSC, POLICE, PROBATION, validNhsNumberFrom } from '../helpers/ids.js';

/**
 * Shared by the flag tests (flags*.test.ts): subjects, bodies and a small harness over one running test
 * gateway. Not a test file itself.
 */
export { CSC, CSC2, GP, POLICE, PROBATION } from '../helpers/ids.js';

/** Valid NHS numbers, one per scenario. */
export const nhsNumber = (n: number): string => validNhsNumberFrom(970_000_000 + n * 10);

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const childSubject = (nhs: string, over: Record<string, unknown> = {}) => ({
  type: 'child',
  nhsNumber: nhs,
  name: { given: 'Zoë', family: "O'Brien-Smith" },
  dateOfBirth: '2019-05-04',
  ...over,
});

export const adultSubject = (pncId: string, over: Record<string, unknown> = {}) => ({
  type: 'adult',
  pncId,
  name: { given: 'Lee', family: 'Marsh-Doyle' },
  dateOfBirth: '1984-11-23',
  ...over,
});

export const CONTACT = { team: 'MASH front door', phone: '01632 960001', email: 'mash@north.example' };

export const publishBody = (subject: object, flag: string, over: Record<string, unknown> = {}) => ({
  subject,
  flag,
  validFrom: '2025-01-01',
  contact: CONTACT,
  ...over,
});

export interface OutboxRow extends Record<string, unknown> {
  agency_id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface InboxRow extends Record<string, unknown> {
  id: string;
  agency_id: string;
  kind: string;
  ref: string;
  type: string;
}

/** A ledger entry as stored, the fields the flag tests look at. */
export interface EntryRow extends Record<string, unknown> {
  seq: number;
  action: string;
  actor_agency: string;
  actor_role: string;
  subject_ref: string | null;
  purpose: string | null;
  case_reference: string | null;
  decision: string;
  rule_ids: string[];
  fields: Record<string, string[]> | null;
  categories: string[] | null;
  counterparts: string[] | null;
  flag_id: string | null;
  outcome: string | null;
}

export function harness(gw: TestGateway) {
  const { db, ledger } = gw.gateway;
  const as =
    (agency: string, role: string) =>
    (method: string, path: string, body?: unknown): Promise<HttpResult> =>
      gw.call(agency, role, method, path, body);
  return {
    as,
    publish: (agency: string, role: string, body: unknown) => gw.call(agency, role, 'PUT', '/v1/flags', body),
    search: (agency: string, role: string, body: unknown) =>
      gw.call(agency, role, 'POST', '/v1/flags/search', body),
    end: (agency: string, role: string, id: string) => gw.call(agency, role, 'DELETE', `/v1/flags/${id}`),
    /** Publishes and insists on 201; returns the new flag's id. */
    async published(agency: string, role: string, body: unknown): Promise<string> {
      const r = await gw.call(agency, role, 'PUT', '/v1/flags', body);
      if (r.status !== 201) throw new Error(`flag not published: ${r.status} ${r.text}`);
      return r.json.id;
    },
    /** Ledger entries after the sequencer has caught up, oldest first, from `afterSeq` on. */
    async entries(afterSeq = 0): Promise<EntryRow[]> {
      await ledger.flush();
      return db.query<EntryRow>('SELECT * FROM ledger_entries WHERE seq > $1 ORDER BY seq', [afterSeq]);
    },
    async head(): Promise<number> {
      await ledger.flush();
      const [row] = await db.query<{ n: number | null }>('SELECT max(seq) AS n FROM ledger_entries');
      return row?.n ?? 0;
    },
    async events(type: string): Promise<OutboxRow[]> {
      return db.query<OutboxRow>('SELECT agency_id, type, data FROM outbox WHERE type = $1 ORDER BY id', [
        type,
      ]);
    },
    async inbox(type: string): Promise<InboxRow[]> {
      return db.query<InboxRow>(
        'SELECT id::text, agency_id, kind, ref, type FROM inbox_items WHERE type = $1 ORDER BY seq',
        [type],
      );
    },
    /** Every row of a table as JSON text, to search for what must not be there. */
    async dump(table: string): Promise<string> {
      const rows = await db.query<{ t: string }>(`SELECT row_to_json(x)::text AS t FROM ${table} x`);
      return rows.map((r) => r.t).join('\n');
    },
  };
}

export type Harness = ReturnType<typeof harness>;

export const MAPPA_NOTES = 'Lives with a partner and her two children';

/** Text of the seeded flags and of the subjects the flag tests use: none of it may leave the flag record. */
const SEEDED_PERSONAL = [
  'Zoë',
  'Zoe',
  "O'Brien",
  'OBrien',
  'obriensmith',
  '2019-05-04',
  '0012345X',
  '12345X',
  'Marsh',
  'marshdoyle',
  '1984-11-23',
];
const FLAG_TEXT = [MAPPA_NOTES, 'North MAPPA unit', '01632 96000'];

/**
 * The flags every flag journey test starts from: Zoë's child protection plan (children's social care),
 * and Lee, MAPPA-managed by probation (with details) and a risk to children for the police.
 */
export async function seedFlags(h: Harness) {
  const zoeNhs = nhsNumber(1);
  const zoe = childSubject(zoeNhs);
  const leePnc = '2001/0012345X';
  const lee = adultSubject(leePnc);
  const cpPlan = await h.published(CSC, 'social_worker', publishBody(zoe, 'child_protection_plan'));
  const mappa = await h.published(
    PROBATION,
    'mappa_coordinator',
    publishBody(lee, 'mappa_managed', {
      details: { level: 2, category: 1, notes: MAPPA_NOTES },
      contact: { team: 'North MAPPA unit', phone: '01632 960002' },
    }),
  );
  const policeRisk = await h.published(
    POLICE,
    'public_protection_officer',
    publishBody(adultSubject('2001/12345x'), 'risk_to_children', { details: { level: 'high' } }),
  );
  return { zoeNhs, zoe, leePnc, lee, cpPlan, mappa, policeRisk };
}

interface Asserts {
  ok(value: unknown, message: string): void;
  notOk(value: unknown, message: string): void;
}

/**
 * Searches every stored ledger entry, queued entry, outbox row, inbox item and flag row for the tests'
 * names, numbers and dates (`extra`: a test's own), and all but the flag record for the flags' texts.
 */
export async function assertNoPersonalData(t: Asserts, gw: TestGateway, extra: string[]): Promise<void> {
  const h = harness(gw);
  await gw.gateway.ledger.flush();
  const stored = {
    ledger: await h.dump('ledger_entries'),
    queue: await h.dump('ledger_queue'),
    outbox: await h.dump('outbox'),
    inbox: await h.dump('inbox_items'),
    flags: await h.dump('flags'),
  };
  const { queue: _sequenced, ...filled } = stored;
  t.ok(
    Object.values(filled).every((s) => s.length > 0),
    'there is something to look at (the queue is empty once sequenced)',
  );
  for (const [table, text] of Object.entries(stored)) {
    for (const value of [...SEEDED_PERSONAL, ...extra]) {
      t.notOk(text.includes(value), `${table} holds no "${value}"`);
    }
  }
  for (const table of ['ledger', 'queue', 'outbox', 'inbox'] as const) {
    for (const value of FLAG_TEXT)
      t.notOk(stored[table].includes(value), `${table} holds no flag text "${value}"`);
  }
}
