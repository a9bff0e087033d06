import { type Static, Type } from '@sinclair/typebox';
import { DateOrDateTime, stringEnum } from '../../http/schema.js';
import { SubjectSchema } from '../../http/subject.js';
import { AGENCY_KINDS } from '../../identity/index.js';
import { FLAG_TYPES, PURPOSES } from '../../policy/index.js';

/** The most subjects one household check may carry (contract section 7). */
export const MAX_HOUSEHOLD = 10;

/**
 * A flag's details: flat (named scalar facts a policy can release one by one as `details.<name>`, so a
 * name is what a policy path may name), at most 50 of them, each string at most 2000 characters; the
 * `flags` category's schema (src/policy/catalogue.ts) says the same of a flag released in an answer.
 */
const DetailValue = Type.Union([
  Type.String({ maxLength: 2000 }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
]);
const Details = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }), DetailValue, {
  maxProperties: 50,
  additionalProperties: false,
});

const Contact = Type.Object(
  {
    team: Type.String({ minLength: 1, maxLength: 200 }),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
  },
  { additionalProperties: false },
);

export const PublishBody = Type.Object(
  {
    subject: SubjectSchema,
    flag: stringEnum(FLAG_TYPES),
    details: Type.Optional(Details),
    validFrom: DateOrDateTime,
    validTo: Type.Optional(DateOrDateTime),
    contact: Contact,
  },
  { additionalProperties: false },
);
export type PublishBodyT = Static<typeof PublishBody>;

export const PublishReply = Type.Object({ id: Type.String() });

export const FlagParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type FlagParamsT = Static<typeof FlagParams>;

export const EndReply = Type.Object({
  id: Type.String(),
  status: Type.Literal('ended'),
  endedAt: Type.String(),
});

export const SearchBody = Type.Object(
  {
    subject: Type.Optional(SubjectSchema),
    subjects: Type.Optional(Type.Array(SubjectSchema, { minItems: 1, maxItems: MAX_HOUSEHOLD })),
    purpose: stringEnum(PURPOSES),
    caseReference: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type SearchBodyT = Static<typeof SearchBody>;

const MATCHES = ['exact', 'possible', 'none'] as const;
export type OverallMatch = (typeof MATCHES)[number];

/** One flag as a searcher sees it: `details` and `contact` only as far as the policy shares them. */
const FlagResult = Type.Object({
  flag: stringEnum(FLAG_TYPES),
  /** How this flag's subject matched: `possible` (name and date of birth only) never carries details. */
  match: stringEnum(['exact', 'possible'] as const),
  agency: Type.Object({ id: Type.String(), name: Type.String(), kind: stringEnum(AGENCY_KINDS) }),
  details: Type.Optional(Type.Record(Type.String(), DetailValue)),
  contact: Type.Optional(Contact),
  validFrom: Type.String(),
  validTo: Type.Optional(Type.String()),
});
export type FlagResultT = Static<typeof FlagResult>;

const SubjectAnswer = Type.Object({ match: stringEnum(MATCHES), results: Type.Array(FlagResult) });
export type SubjectAnswerT = Static<typeof SubjectAnswer>;

const CaseReference = Type.Optional(Type.String());

/** One subject: its answer; a household: one answer per subject, in the order asked. */
export const SearchReply = Type.Union([
  Type.Object({ match: stringEnum(MATCHES), results: Type.Array(FlagResult), caseReference: CaseReference }),
  Type.Object({ results: Type.Array(SubjectAnswer), caseReference: CaseReference }),
]);
export type SearchReplyT = Static<typeof SearchReply>;
