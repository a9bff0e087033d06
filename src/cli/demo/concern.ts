import { ADULT, AGENCIES, CASE_REFERENCE, CHILD, GP, MASH_OFFICER } from './cast.js';
import { expect, list } from './client.js';
import { type Demo, inboxOf } from './journey.js';

interface ConcernView {
  status: string;
  categories: string[];
  householdMembers: unknown[];
  acknowledgeBy: string;
  decision?: { outcome: string; feedbackToReferrer: string; note?: string };
}

const FEEDBACK = 'Thank you. A strategy discussion is being convened today (demo).';

/**
 * The GP's journey (contract section 5): one call raises a concern with children's social care, which
 * the gateway gives a deadline; the MASH officer finds it in the inbox, reads it and decides; the GP is
 * told and reads the feedback.
 */
export async function concernJourney(demo: Demo): Promise<void> {
  const { run, as, who } = demo;
  run.heading('The GP raises a safeguarding concern with children’s social care');
  const submitted = await run.step(
    `${who(GP)} POST /v1/concerns to ${AGENCIES.csc.id} (child + 1 household member)`,
    [201],
    () =>
      as(GP, 'POST', '/v1/concerns', {
        to: AGENCIES.csc.id,
        child: CHILD,
        categories: ['neglect', 'emotional_abuse'],
        summary: 'Repeated missed appointments and the child seemed withdrawn at the surgery (demo).',
        urgency: 'standard',
        consent: { status: 'not_sought', reason: 'Asking the parents could place the child at risk (demo).' },
        householdMembers: [ADULT],
        referrerContact: { phone: '01234 567890', email: 'safeguarding@riverside.example' },
        caseReference: CASE_REFERENCE,
      }),
    (r) => {
      const c = r.body as { status: string; acknowledgeBy: string };
      return `${c.status}; to be decided by ${c.acknowledgeBy} (end of the next working day)`;
    },
  );
  const concern = submitted.body as { id: string; acknowledgeBy: string };

  await run.step(
    `${who(MASH_OFFICER)} GET /v1/inbox`,
    [200],
    () => as(MASH_OFFICER, 'GET', '/v1/inbox?limit=200'),
    (r) => {
      const items = inboxOf(r).filter((i) => i.ref === concern.id);
      const item = items.find((i) => i.type === 'concern.received');
      expect(item?.kind === 'concern', 'the concern is not in the inbox of children’s social care');
      expect(item?.dueBy === concern.acknowledgeBy, 'the inbox item is not due when the concern is');
      return `${item?.type} (${item?.kind}), due ${item?.dueBy}`;
    },
  );
  await run.step(
    `${who(MASH_OFFICER)} GET /v1/concerns/:id`,
    [200],
    () => as(MASH_OFFICER, 'GET', `/v1/concerns/${concern.id}`),
    (r) => {
      const v = r.body as ConcernView;
      return `${v.status}: ${list(v.categories)}; ${v.householdMembers.length} household member (a ledgered read)`;
    },
  );
  await run.step(
    `${who(MASH_OFFICER)} POST /v1/concerns/:id/decision`,
    [200],
    () =>
      as(MASH_OFFICER, 'POST', `/v1/concerns/${concern.id}/decision`, {
        outcome: 'strategy_discussion',
        feedbackToReferrer: FEEDBACK,
        note: 'Known to the police for domestic abuse call-outs (demo).',
      }),
    (r) => {
      const d = r.body as { status: string; outcome: string; decidedLate: boolean };
      expect(!d.decidedLate, 'the decision is marked late');
      return `${d.status}: ${d.outcome}, within the timescale`;
    },
  );
  await run.step(
    `${who(GP)} GET /v1/inbox`,
    [200],
    () => as(GP, 'GET', '/v1/inbox?limit=200'),
    (r) => {
      const items = inboxOf(r).filter((i) => i.ref === concern.id);
      expect(
        items.some((i) => i.type === 'concern.decided'),
        'the GP was not told of the decision',
      );
      return list(items.map((i) => i.type));
    },
  );
  await run.step(
    `${who(GP)} GET /v1/concerns/:id`,
    [200],
    () => as(GP, 'GET', `/v1/concerns/${concern.id}`),
    (r) => {
      const v = r.body as ConcernView;
      expect(v.decision?.feedbackToReferrer === FEEDBACK, 'the GP does not see the feedback');
      expect(v.decision?.note === undefined, 'the GP sees the MASH officer’s own note');
      return `${v.status}: ${v.decision?.outcome}; feedback "${v.decision?.feedbackToReferrer}" (no internal note)`;
    },
  );
}
