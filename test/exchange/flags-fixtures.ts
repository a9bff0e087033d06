import type { TestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';
import { validNhsNumberFrom } from '../helpers/ids.js';

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
