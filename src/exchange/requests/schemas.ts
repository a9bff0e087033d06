import { type Static, Type } from '@sinclair/typebox';
import { stringEnum } from '../../http/schema.js';
import { SubjectSchema } from '../../http/subject.js';
import { CATEGORY_NAMES, OVERRIDE_REASONS, PURPOSES } from '../../policy/index.js';

const AgencyId = Type.String({ minLength: 1, maxLength: 64 });
const CategoryName = stringEnum(CATEGORY_NAMES);
const FieldPaths = Type.Record(Type.String(), Type.Array(Type.String()));

export const CreateRequestBody = Type.Object(
  {
    to: AgencyId,
    subject: SubjectSchema,
    purpose: stringEnum(PURPOSES),
    categories: Type.Array(CategoryName, { minItems: 1, maxItems: CATEGORY_NAMES.length, uniqueItems: true }),
    justification: Type.String({ minLength: 1, maxLength: 2000 }),
    caseReference: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    relatedChildren: Type.Optional(Type.Array(SubjectSchema, { maxItems: 20 })),
    respondBy: Type.Optional(Type.String({ format: 'date-time' })),
    consent: Type.Optional(
      Type.Object(
        {
          status: stringEnum(['given', 'refused', 'not_sought'] as const),
          consentId: Type.Optional(Type.String({ format: 'uuid' })),
        },
        { additionalProperties: false },
      ),
    ),
    override: Type.Optional(
      Type.Object(
        {
          reason: stringEnum(OVERRIDE_REASONS),
          justification: Type.String({ minLength: 1, maxLength: 2000 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateRequestBodyT = Static<typeof CreateRequestBody>;

const Refusal = Type.Object({
  category: Type.String(),
  code: stringEnum(['policy_denied', 'consent_required'] as const),
  ruleId: Type.Optional(Type.String()),
  message: Type.String(),
});
export type RefusalT = Static<typeof Refusal>;

const ConsentOutcome = Type.Object({ status: Type.String(), basis: Type.String() });
export type ConsentOutcomeT = Static<typeof ConsentOutcome>;

/**
 * Our addition beside the contract's `consent` (left as the contract shows it): the consent record that
 * decided (the most recent applicable one), and a notice when the request named another.
 */
const ConsentRecordFields = {
  consentRecordId: Type.Optional(Type.String()),
  consentNotice: Type.Optional(Type.String()),
};

export const CreateRequestReply = Type.Object({
  id: Type.String(),
  status: Type.Literal('awaiting_response'),
  respondBy: Type.String(),
  granted: Type.Array(Type.String()),
  refused: Type.Array(Refusal),
  lawfulBasis: Type.Array(Type.String()),
  consent: ConsentOutcome,
  ...ConsentRecordFields,
  policyVersion: Type.String(),
  // Echoed back (contract section 3), so that the requester can tie the request to its own file.
  caseReference: Type.Optional(Type.String()),
});

export const RequestParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type RequestParamsT = Static<typeof RequestParams>;

export const RespondBody = Type.Object(
  {
    // Each payload is checked against its category's schema by the handler, which can name the category.
    data: Type.Object(Object.fromEntries(CATEGORY_NAMES.map((c) => [c, Type.Optional(Type.Unknown())])), {
      additionalProperties: false,
    }),
    withheld: Type.Optional(
      Type.Array(
        Type.Object(
          { category: CategoryName, reason: Type.String({ minLength: 1, maxLength: 2000 }) },
          { additionalProperties: false },
        ),
        { maxItems: CATEGORY_NAMES.length },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RespondBodyT = Static<typeof RespondBody>;

export const RespondReply = Type.Object({
  status: Type.Literal('responded'),
  released: FieldPaths,
  withheldByPolicy: FieldPaths,
});

export const DeclineBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
export type DeclineBodyT = Static<typeof DeclineBody>;

export const DeclineReply = Type.Object({ id: Type.String(), status: Type.Literal('declined') });

const STATUSES = ['awaiting_response', 'overdue', 'responded', 'declined'] as const;
export type RequestStatus = (typeof STATUSES)[number];

export const RequestView = Type.Object({
  id: Type.String(),
  status: stringEnum(STATUSES),
  from: Type.String(),
  to: Type.String(),
  purpose: Type.String(),
  subject: SubjectSchema,
  relatedChildren: Type.Optional(Type.Array(SubjectSchema)),
  categories: Type.Array(Type.String()),
  granted: Type.Array(Type.String()),
  refused: Type.Array(Refusal),
  lawfulBasis: Type.Array(Type.String()),
  consent: ConsentOutcome,
  ...ConsentRecordFields,
  override: Type.Optional(Type.Object({ reason: Type.String(), justification: Type.String() })),
  justification: Type.String(),
  caseReference: Type.Optional(Type.String()),
  respondBy: Type.String(),
  createdAt: Type.String(),
  response: Type.Optional(
    Type.Object({
      data: Type.Record(Type.String(), Type.Unknown()),
      respondedAt: Type.String(),
      withheld: Type.Optional(Type.Array(Type.Object({ category: Type.String(), reason: Type.String() }))),
      // The holder's own view adds what the policy kept back; the requester never sees this.
      released: Type.Optional(FieldPaths),
      withheldByPolicy: Type.Optional(FieldPaths),
    }),
  ),
  decline: Type.Optional(Type.Object({ reason: Type.String(), declinedAt: Type.String() })),
});
export type RequestViewT = Static<typeof RequestView>;
