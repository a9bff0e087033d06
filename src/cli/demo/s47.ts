import {
  ADULT,
  AGENCIES,
  type AgencyKey,
  CASE_REFERENCE,
  CHILD,
  GP,
  POLICE_OFFICER,
  PROBATION_OFFICER,
  type Practitioner,
  SOCIAL_WORKER,
} from './cast.js';
import { expect, list } from './client.js';
import type { Demo } from './journey.js';

interface Created {
  id: string;
  granted: string[];
  refused: Array<{ category: string; code: string; ruleId?: string }>;
}

interface Answered {
  released: Record<string, string[]>;
  withheldByPolicy: Record<string, string[]>;
}

interface RequestView {
  status: string;
  response?: { data: Record<string, unknown> };
}

const JUSTIFICATION = 'Strategy discussion held today; s47 enquiry opened (demo data).';
const DECLINE_REASON = 'The child is not registered with this practice.';

const fieldList = (fields: Record<string, string[]>): string =>
  list(Object.entries(fields).map(([category, paths]) => `${category} (${[...paths].sort().join(', ')})`));

/**
 * The social worker's journey (contract section 6): a s47 enquiry asks police, the GP and probation;
 * policies decide per category, answers are filtered, a decline is a record too, every read is ledgered.
 */
export async function s47Journey(demo: Demo): Promise<void> {
  const { run, as, who } = demo;
  run.heading('A s47 enquiry: the social worker asks police, the GP and probation');
  const ask = async (to: AgencyKey, about: string, subject: unknown, categories: string[]) => {
    const reply = await run.step(
      `${who(SOCIAL_WORKER)} POST /v1/requests to ${AGENCIES[to].id}, ${about}: ${categories.join(', ')}`,
      [201],
      () =>
        as(SOCIAL_WORKER, 'POST', '/v1/requests', {
          to: AGENCIES[to].id,
          subject,
          purpose: 's47_enquiry',
          categories,
          justification: JUSTIFICATION,
          caseReference: CASE_REFERENCE,
        }),
      (r) => {
        const c = r.body as Created;
        const refused = c.refused.map((x) => `${x.category} (${x.code}${x.ruleId ? ` by ${x.ruleId}` : ''})`);
        return `granted: ${list(c.granted)}; refused: ${list(refused)}`;
      },
    );
    return reply.body as Created;
  };
  // The police ask includes intelligence, which the policy refuses outside MAPPA.
  const police = await ask('police', 'child', CHILD, ['incidents', 'intelligence']);
  expect(
    police.refused.some((r) => r.category === 'intelligence'),
    'intelligence was not refused to the social worker',
  );
  const gp = await ask('gp', 'child', CHILD, ['registration', 'attendances']);
  const probation = await ask('probation', 'adult in the household', ADULT, [
    'mappa',
    'risk_of_serious_harm',
  ]);

  const answer = (holder: Practitioner, requestId: string, data: Record<string, unknown>) =>
    run.step(
      `${who(holder)} POST /v1/requests/:id/response`,
      [200],
      () => as(holder, 'POST', `/v1/requests/${requestId}/response`, { data }),
      (r) => {
        const a = r.body as Answered;
        return `released: ${fieldList(a.released)}; withheld by policy: ${fieldList(a.withheldByPolicy)}`;
      },
    );
  await answer(POLICE_OFFICER, police.id, {
    incidents: {
      items: [
        {
          date: '2025-10-01',
          type: 'domestic',
          role: 'victim',
          summary: 'Call-out to the home address (demo).',
          reference: 'DEMO-INC-1',
        },
      ],
    },
  });
  // Probation includes nextReview, which the s47 policy does not share with children's social care.
  const probationAnswer = await answer(PROBATION_OFFICER, probation.id, {
    mappa: { category: 1, level: 2, leadAgency: 'probation', nextReview: '2027-01-10' },
    risk_of_serious_harm: { level: 'high', riskTo: ['children'], summary: 'Risk to children in the home.' },
  });
  expect(
    ((probationAnswer.body as Answered).withheldByPolicy.mappa ?? []).includes('nextReview'),
    'mappa.nextReview was not withheld',
  );
  await run.step(
    `${who(GP)} POST /v1/requests/:id/decline`,
    [200],
    () => as(GP, 'POST', `/v1/requests/${gp.id}/decline`, { reason: DECLINE_REASON }),
    (r) => `${(r.body as { status: string }).status}: "${DECLINE_REASON}" (the ledger keeps a commitment)`,
  );

  const read = (holder: AgencyKey, requestId: string) =>
    run.step(
      `${who(SOCIAL_WORKER)} GET /v1/requests/:id (to ${AGENCIES[holder].id})`,
      [200],
      () => as(SOCIAL_WORKER, 'GET', `/v1/requests/${requestId}`),
      (r) => {
        const v = r.body as RequestView;
        if (!v.response) return `${v.status}, no data`;
        const shown = Object.entries(v.response.data).map(([category, payload]) => {
          const items = (payload as { items?: unknown[] }).items;
          return Array.isArray(items)
            ? `${category} (${items.length} item${items.length === 1 ? '' : 's'})`
            : `${category} {${Object.keys(payload as object).join(', ')}}`;
        });
        return `${v.status}: ${list(shown)}`;
      },
    );
  await read('police', police.id);
  const probationRead = await read('probation', probation.id);
  const mappa = (probationRead.body as RequestView).response?.data.mappa as
    | Record<string, unknown>
    | undefined;
  expect(mappa !== undefined && !('nextReview' in mappa), 'the social worker saw mappa.nextReview');
  await read('gp', gp.id);
}
