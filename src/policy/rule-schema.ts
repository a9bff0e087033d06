/**
 * The JSON Schema of one policy rule: structure only. The vocabulary (purposes, kinds, roles,
 * categories, field paths, flag types) is checked after it, so that an unknown word gets a message that
 * names it. Published verbatim at policies/schema.json (a test keeps the two equal).
 */
export const RULE_SCHEMA_ID = 'https://sgw.invalid/schemas/policy-rule.json';

const name = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' };
const names = { type: 'array', minItems: 1, uniqueItems: true, items: name };

export const RULE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: RULE_SCHEMA_ID,
  title: 'Safeguarding gateway policy rule',
  description:
    'One information-sharing rule. A bundle is every *.yaml / *.yml file of a folder; each file holds one rule, or a list of rules, or several YAML documents.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'purposes', 'requester', 'holder', 'share'],
  properties: {
    id: {
      description: 'Unique across the bundle; recorded in ledger entries.',
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
    },
    description: {
      description: 'What the rule is for, in words a DPO can check (shown by GET /v1/policies).',
      type: 'string',
      maxLength: 2000,
      default: '',
    },
    effect: {
      description:
        'permit shares the listed fields; deny refuses the listed categories and wins over any permit.',
      enum: ['permit', 'deny'],
      default: 'permit',
    },
    purposes: { ...names, description: 'Contract section 3 purposes.' },
    requester: {
      type: 'object',
      additionalProperties: false,
      required: ['agencyKinds'],
      properties: {
        agencyKinds: names,
        roles: {
          ...names,
          description: 'Absent: every practice role of the listed kinds (not auditor or agency_admin).',
        },
      },
    },
    holder: {
      type: 'object',
      additionalProperties: false,
      required: ['agencyKinds'],
      properties: {
        agencyKinds: {
          ...names,
          description: 'The kinds of agency that answer; for flags, the kinds that published the flags.',
        },
      },
    },
    lawfulBasis: {
      description:
        'Required on permit rules. UK GDPR Art 6(1)(ea) is refused: public authorities cannot rely on it.',
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 200 },
    },
    consent: {
      description: 'Required on permit rules.',
      enum: ['required', 'not_required'],
    },
    allowOverride: {
      description:
        'With consent: required, whether a request carrying an override may proceed without consent.',
      type: 'boolean',
      default: false,
    },
    overrideReasons: {
      description:
        'With allowOverride: the override reasons that may stand in for consent (default: every reason). Our addition to the contract.',
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: ['risk_of_significant_harm', 'prevention_of_crime', 'urgent_medical'] },
    },
    respondWithin: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['workingDays'],
          properties: { workingDays: { type: 'integer', minimum: 1, maximum: 100 } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['hours'],
          properties: { hours: { type: 'number', exclusiveMinimum: 0, maximum: 720 } },
        },
      ],
    },
    flagTypes: {
      ...names,
      description: 'The flag types a flags share (or a flags deny) covers; absent: every type.',
    },
    share: {
      description:
        'category -> field paths (items.date, members.name, details.level) or "*" for every field.',
      type: 'object',
      minProperties: 1,
      propertyNames: name,
      additionalProperties: {
        oneOf: [
          { const: '*' },
          {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z][A-Za-z0-9_]*)?$' },
          },
        ],
      },
    },
  },
  if: { required: ['effect'], properties: { effect: { const: 'deny' } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable.
  then: true,
  else: { required: ['lawfulBasis', 'consent'] },
} as const;
