import type { TestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';
import { CSC, GP, validNhsNumberFrom } from '../helpers/ids.js';

/**
 * Shared by the concern tests (concerns*.test.ts): bodies, subjects and a small harness over one running
 * test gateway. Not a test file itself.
 */
export { CSC, CSC2, GP, POLICE, PROBATION } from '../helpers/ids.js';

/** Valid NHS numbers from a range of their own, so that these tests' ledger queries meet no one else's. */
export const nhsNumber = (n: number): string => validNhsNumberFrom(970_000_000 + n * 10);

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const child = (nhs: string) => ({
  type: 'child',
  nhsNumber: nhs,
  name: { given: 'Sam', family: 'Example' },
  dateOfBirth: '2019-05-04',
});

export const concernBody = (over: Record<string, unknown> = {}) => ({
  to: CSC,
  child: child(nhsNumber(0)),
  categories: ['neglect'],
  summary: 'Attended three times with untreated injuries; parent vague about their cause.',
  urgency: 'standard',
  consent: { status: 'not_sought', reason: 'Seeking consent could place the child at risk.' },
  referrerContact: { phone: '01234 567890', email: 'gp@riverside.example' },
  ...over,
});

export const decisionBody = (over: Record<string, unknown> = {}) => ({
  outcome: 'child_and_family_assessment',
  feedbackToReferrer: 'Accepted for a child and family assessment; the allocated worker will call you.',
  ...over,
});

export interface ConcernEntry {
  seq: number;
  action: string;
  actor: { agency: string; sub: string; role: string };
  counterpart?: string;
  concernId?: string;
  caseReference?: string;
  subjectRef: string;
  purpose?: string;
  consent?: string;
  decision: string;
  ruleIds: string[];
  policyVersion: string;
  categories?: string[];
  outcome?: string;
  commitments?: Record<string, string>;
}

export function concernHarness(gw: TestGateway) {
  const { ledger } = gw.gateway;
  const as =
    (agency: string, role: string) =>
    (method: string, path: string, body?: unknown): Promise<HttpResult> =>
      gw.call(agency, role, method, path, body);
  const gp = as(GP, 'gp');
  const sw = as(CSC, 'social_worker');
  return {
    as,
    gp,
    sw,
    /** Submits as the GP; fails the test setup unless the concern is created. */
    async raise(over: Record<string, unknown> = {}): Promise<{ id: string; acknowledgeBy: string }> {
      const r = await gp('POST', '/v1/concerns', concernBody(over));
      if (r.status !== 201) throw new Error(`concern not submitted: ${r.status} ${r.text}`);
      return r.json;
    },
    /** Ledger entries the agency's auditor sees about a concern, after the sequencer has caught up. */
    async entries(agency: string, concernId: string, query = ''): Promise<ConcernEntry[]> {
      await ledger.flush();
      const r = await gw.call(agency, 'auditor', 'GET', `/v1/audit?limit=500${query}`);
      if (r.status !== 200) throw new Error(`audit read failed: ${r.status} ${r.text}`);
      return (r.json.entries as ConcernEntry[]).filter((e) => e.concernId === concernId);
    },
    async events(concernId: string) {
      return gw.gateway.db.query<{ agency_id: string; type: string; data: Record<string, unknown> }>(
        `SELECT agency_id, type, data FROM outbox WHERE data->>'concernId' = $1 ORDER BY id`,
        [concernId],
      );
    },
    async inbox(concernId: string) {
      return gw.gateway.db.query<{ agency_id: string; kind: string; type: string; due_by: string | null }>(
        'SELECT agency_id, kind, type, due_by FROM inbox_items WHERE ref = $1 ORDER BY seq',
        [concernId],
      );
    },
  };
}
