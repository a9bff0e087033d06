import type { TestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';
import { CSC, GP, POLICE, PROBATION, validNhsNumberFrom } from '../helpers/ids.js';

/**
 * Shared by the information-request tests (requests*.test.ts): agency ids, subjects, bodies and a small
 * harness over one running test gateway. Not a test file itself.
 */
export { CSC, CSC2, GP, POLICE, PROBATION } from '../helpers/ids.js';

/** Valid NHS numbers, one per scenario, so that consent records and ledger queries never meet. */
export const nhsNumber = (n: number): string => validNhsNumberFrom(990_000_000 + n * 10);

export const child = (nhs: string) => ({
  type: 'child',
  nhsNumber: nhs,
  name: { given: 'Sam', family: 'Example' },
  dateOfBirth: '2019-05-04',
});

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const DAY_MS = 24 * 3600 * 1000;

export const requestBody = (over: Record<string, unknown> = {}) => ({
  to: POLICE,
  subject: child(nhsNumber(0)),
  purpose: 's47_enquiry',
  categories: ['incidents'],
  justification: 'Strategy discussion held today; s47 enquiry opened.',
  ...over,
});

/** A consent record (contract section 8) for the GP's s17 registration by default. */
export const consentBody = (nhs: string, over: Record<string, unknown> = {}) => ({
  subject: { type: 'child', nhsNumber: nhs },
  givenBy: { relationship: 'parent', name: 'Jo Example' },
  status: 'given',
  purposes: ['s17_assessment'],
  agencies: [GP],
  categories: ['registration'],
  validFrom: new Date(Date.now() - 30 * DAY_MS).toISOString(),
  evidence: 'Signed consent form, scanned to the case file.',
  ...over,
});

/** Category payloads as a holder would send them. */
export const PAYLOADS = {
  registration: {
    practiceCode: 'Y01234',
    practiceName: 'Riverside Surgery',
    registeredSince: '2019-06-01',
    usualGp: 'Dr Patel',
  },
  missed_appointments: { items: [{ date: '2026-09-01', service: 'health visiting' }] },
  incidents: {
    items: [
      {
        date: '2026-10-01',
        type: 'domestic',
        role: 'victim',
        summary: 'Call-out at night',
        reference: 'INC-1',
      },
    ],
  },
  domestic_abuse: {
    items: [{ date: '2026-10-01', riskLevel: 'high', marac: true, summary: 'Referred to MARAC' }],
  },
  mappa: { category: 1, level: 2, leadAgency: 'probation', nextReview: '2027-01-10' },
  offence_summary: { index: 'Assault', summary: 'Assault on a partner', sentence: '2 years' },
  supervising_officer: {
    name: 'Pat Officer',
    team: 'North PDU',
    phone: '01234 567890',
    email: 'pat@probation.example',
  },
} as const;

export interface Entry {
  seq: number;
  action: string;
  actor: { agency: string; sub: string; role: string };
  counterpart?: string;
  requestId?: string;
  caseReference?: string;
  subjectRef: string;
  purpose?: string;
  lawfulBasis?: string[];
  consent?: string;
  decision: string;
  ruleIds: string[];
  policyVersion: string;
  fields?: Record<string, string[]>;
  categories?: string[];
  reason?: string;
  counterparts?: string[];
  consentId?: string;
  consentIds?: string[];
  commitments?: Record<string, string>;
}

export interface OutboxRow extends Record<string, unknown> {
  agency_id: string;
  type: string;
  data: Record<string, unknown>;
}

/** The parts of a problem body that must not tell one "not found" from another. */
export const problemShape = (r: HttpResult) => ({
  status: r.status,
  contentType: r.headers['content-type'],
  type: r.json?.type,
  title: r.json?.title,
  detail: r.json?.detail,
  code: r.json?.code,
  keys: Object.keys(r.json ?? {}).sort(),
});

export function harness(gw: TestGateway) {
  const { db, ledger } = gw.gateway;
  const as =
    (agency: string, role: string) =>
    (method: string, path: string, body?: unknown): Promise<HttpResult> =>
      gw.call(agency, role, method, path, body);
  const sw = as(CSC, 'social_worker');
  return {
    as,
    sw,
    ask: (body: unknown) => sw('POST', '/v1/requests', body),
    police: as(POLICE, 'police_officer'),
    gp: as(GP, 'gp'),
    probation: as(PROBATION, 'probation_officer'),
    /** Ledger entries the agency's auditor sees, after the sequencer has caught up. */
    async audit(agency: string, query: string): Promise<Entry[]> {
      await ledger.flush();
      const r = await gw.call(agency, 'auditor', 'GET', `/v1/audit?limit=500&${query}`);
      if (r.status !== 200) throw new Error(`audit read failed: ${r.status} ${r.text}`);
      return r.json.entries;
    },
    async outbox(requestId: string): Promise<OutboxRow[]> {
      return db.query<OutboxRow>(
        `SELECT agency_id, type, data FROM outbox WHERE data->>'requestId' = $1 ORDER BY id`,
        [requestId],
      );
    },
    async countRows(sql: string, params: unknown[] = []): Promise<number> {
      const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
      return rows[0]?.n ?? -1;
    },
    async requestsFor(nhs: string): Promise<number> {
      const rows = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM info_requests WHERE subject->>'nhsNumber' = $1`,
        [nhs],
      );
      return rows[0]?.n ?? -1;
    },
    /** Records a consent through the consent routes (as a CSC social worker); returns its id. */
    async recordConsent(nhs: string, over: Record<string, unknown> = {}, by: string = CSC): Promise<string> {
      const r = await as(by, 'social_worker')('POST', '/v1/consents', consentBody(nhs, over));
      if (r.status !== 201) throw new Error(`consent not recorded: ${r.status} ${r.text}`);
      return r.json.id;
    },
    async withdrawConsent(id: string): Promise<void> {
      const r = await sw('POST', `/v1/consents/${id}/withdraw`, { reason: 'The parent withdrew consent.' });
      if (r.status !== 200) throw new Error(`consent not withdrawn: ${r.status} ${r.text}`);
    },
  };
}

export type Harness = ReturnType<typeof harness>;
