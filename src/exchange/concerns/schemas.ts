import { type Static, Type } from '@sinclair/typebox';
import { stringEnum } from '../../http/schema.js';
import { SubjectSchema } from '../../http/subject.js';

export const CONCERN_CATEGORIES = [
  'neglect',
  'physical_abuse',
  'sexual_abuse',
  'emotional_abuse',
  'domestic_abuse',
  'exploitation',
  'other',
] as const;

export const OUTCOMES = [
  'no_further_action',
  'early_help',
  'child_and_family_assessment',
  'strategy_discussion',
  's47_enquiry',
  'police_referral',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const URGENCIES = ['immediate', 'standard'] as const;
export const CONSENT_STATUSES = ['given', 'refused', 'not_sought'] as const;

/** A household is rarely more than a dozen people; the bound keeps one concern's ledger entries bounded. */
export const MAX_HOUSEHOLD_MEMBERS = 20;

const Consent = Type.Object(
  {
    status: stringEnum(CONSENT_STATUSES),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);

/** How the CSC reaches the referrer. A UK or international number, with the usual spacing and punctuation. */
const ReferrerContact = Type.Object(
  {
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 ()-]{5,23}$' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const SubmitConcernBody = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 64 }),
    child: SubjectSchema,
    categories: Type.Array(stringEnum(CONCERN_CATEGORIES), {
      minItems: 1,
      maxItems: CONCERN_CATEGORIES.length,
      uniqueItems: true,
    }),
    summary: Type.String({ minLength: 1, maxLength: 4000 }),
    urgency: stringEnum(URGENCIES),
    consent: Consent,
    householdMembers: Type.Optional(Type.Array(SubjectSchema, { maxItems: MAX_HOUSEHOLD_MEMBERS })),
    referrerContact: ReferrerContact,
    caseReference: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type SubmitConcernBodyT = Static<typeof SubmitConcernBody>;

export const SubmitConcernReply = Type.Object({
  id: Type.String(),
  status: Type.Literal('submitted'),
  submittedAt: Type.String(),
  acknowledgeBy: Type.String(),
  // Echoed back (contract section 3), so that the referrer can tie the concern to its own file.
  caseReference: Type.Optional(Type.String()),
});

export const ConcernParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type ConcernParamsT = Static<typeof ConcernParams>;

export const DecisionBody = Type.Object(
  {
    outcome: stringEnum(OUTCOMES),
    feedbackToReferrer: Type.String({ minLength: 1, maxLength: 2000 }),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type DecisionBodyT = Static<typeof DecisionBody>;

export const DecisionReply = Type.Object({
  id: Type.String(),
  status: Type.Literal('decided'),
  outcome: Type.String(),
  decidedAt: Type.String(),
  acknowledgeBy: Type.String(),
  decidedLate: Type.Boolean(),
});

const STATUSES = ['submitted', 'decided', 'overdue'] as const;
export type ConcernStatus = (typeof STATUSES)[number];

const Practitioner = Type.Object({ sub: Type.String(), role: Type.String(), name: Type.String() });

export const ConcernView = Type.Object({
  id: Type.String(),
  status: stringEnum(STATUSES),
  from: Type.String(),
  to: Type.String(),
  referrer: Practitioner,
  child: SubjectSchema,
  categories: Type.Array(Type.String()),
  summary: Type.String(),
  urgency: Type.String(),
  consent: Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) }),
  householdMembers: Type.Array(SubjectSchema),
  referrerContact: Type.Object({ phone: Type.Optional(Type.String()), email: Type.Optional(Type.String()) }),
  caseReference: Type.Optional(Type.String()),
  submittedAt: Type.String(),
  acknowledgeBy: Type.String(),
  decision: Type.Optional(
    Type.Object({
      outcome: Type.String(),
      feedbackToReferrer: Type.String(),
      decidedAt: Type.String(),
      decidedBy: Practitioner,
      decidedLate: Type.Boolean(),
      // The CSC's own working note: the addressed agency sees it, the referrer never does.
      note: Type.Optional(Type.String()),
    }),
  ),
});
export type ConcernViewT = Static<typeof ConcernView>;

/** `<acknowledgeBy in ms>_<id>` of the last item of the previous page. */
const CURSOR = '^[0-9]{1,15}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const ListConcernsQuery = Type.Object(
  {
    status: Type.Optional(stringEnum(['open', 'all'] as const)),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    cursor: Type.Optional(Type.String({ pattern: CURSOR })),
  },
  { additionalProperties: false },
);
export type ListConcernsQueryT = Static<typeof ListConcernsQuery>;

/** A concern in a list: no child, no text, so a list discloses nothing about anyone and is not ledgered. */
const ConcernListItem = Type.Object({
  id: Type.String(),
  status: stringEnum(STATUSES),
  from: Type.String(),
  to: Type.String(),
  urgency: Type.String(),
  categories: Type.Array(Type.String()),
  caseReference: Type.Optional(Type.String()),
  submittedAt: Type.String(),
  acknowledgeBy: Type.String(),
  outcome: Type.Optional(Type.String()),
  decidedAt: Type.Optional(Type.String()),
});
export type ConcernListItemT = Static<typeof ConcernListItem>;

export const ListConcernsReply = Type.Object({
  items: Type.Array(ConcernListItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ListConcernsReplyT = Static<typeof ListConcernsReply>;
