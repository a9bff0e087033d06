import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { AgencyKind } from '../identity/roles.js';

/**
 * The data categories of contract section 9: who holds each, the JSON Schema a holder's payload must
 * meet, and the field paths a policy may name. A field path names a field (`practiceCode`), or a field of
 * each element of a list (`items.date`, `members.name`). The `flags` category is held by the gateway's
 * flag index; its `details` is a free-form object whose own fields a policy names as `details.<name>`.
 */

export const PURPOSES = [
  's47_enquiry',
  'strategy_discussion',
  'child_protection_conference',
  's17_assessment',
  'early_help',
  'risk_to_children_check',
  'mappa_risk_assessment',
  'safeguarding_concern',
] as const;
export type Purpose = (typeof PURPOSES)[number];

/** Why a request proceeds without the consent a rule requires (contract section 6). */
export const OVERRIDE_REASONS = [
  'risk_of_significant_harm',
  'prevention_of_crime',
  'urgent_medical',
] as const;
export type OverrideReason = (typeof OVERRIDE_REASONS)[number];

/** Flag types and the agency kinds that may publish them (contract section 7). */
export const FLAG_PUBLISHERS = {
  child_protection_plan: ['children_social_care'],
  looked_after_child: ['children_social_care'],
  unborn_child_protection_plan: ['children_social_care'],
  mappa_managed: ['probation'],
  risk_to_children: ['probation', 'police'],
  registered_sex_offender: ['police'],
} as const satisfies Record<string, readonly AgencyKind[]>;
export type FlagType = keyof typeof FLAG_PUBLISHERS;
export const FLAG_TYPES = Object.keys(FLAG_PUBLISHERS) as FlagType[];

export const FLAGS_CATEGORY = 'flags';

type JsonSchema = Record<string, unknown>;

const text = (maxLength = 200): JsonSchema => ({ type: 'string', minLength: 1, maxLength });
const longText = text(4000);
// A date, optionally with a time: holders' systems record some events to the minute.
const date: JsonSchema = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?)?$',
};
const enumOf = (...values: string[]): JsonSchema => ({ type: 'string', enum: values });

function object(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    ...(required.length ? { required } : {}),
  };
}

function listOf(field: 'items' | 'members', properties: Record<string, JsonSchema>): JsonSchema {
  return object({ [field]: { type: 'array', maxItems: 1000, items: object(properties) } }, [field]);
}

interface CategoryDef {
  holder: AgencyKind | 'flag_index';
  schema: JsonSchema;
}

const contactSchema = object({ team: text(), phone: text(40), email: text(254) }, ['team']);

export const CATEGORIES = {
  registration: {
    holder: 'health',
    schema: object({ practiceCode: text(20), practiceName: text(), registeredSince: date, usualGp: text() }),
  },
  safeguarding_codes: {
    holder: 'health',
    schema: object({ codes: { type: 'array', maxItems: 500, items: text(100) }, notes: longText }),
  },
  attendances: {
    holder: 'health',
    schema: listOf('items', {
      date,
      setting: enumOf('emergency_department', 'urgent_care', 'gp', 'walk_in', 'out_of_hours'),
      reason: longText,
      outcome: longText,
    }),
  },
  missed_appointments: { holder: 'health', schema: listOf('items', { date, service: text() }) },
  relevant_conditions: {
    holder: 'health',
    schema: listOf('items', { condition: text(), relevance: longText }),
  },
  medications: { holder: 'health', schema: listOf('items', { name: text(), since: date }) },
  incidents: {
    holder: 'police',
    schema: listOf('items', {
      date,
      type: text(),
      role: enumOf('victim', 'suspect', 'witness', 'other'),
      summary: longText,
      reference: text(64),
    }),
  },
  convictions: {
    holder: 'police',
    schema: listOf('items', { date, offence: text(), disposal: text() }),
  },
  bail_conditions: { holder: 'police', schema: listOf('items', { condition: longText, until: date }) },
  domestic_abuse: {
    holder: 'police',
    schema: listOf('items', {
      date,
      riskLevel: enumOf('standard', 'medium', 'high'),
      marac: { type: 'boolean' },
      summary: longText,
    }),
  },
  intelligence: { holder: 'police', schema: object({ summary: longText, grading: text(20) }) },
  mappa: {
    holder: 'probation',
    schema: object({
      category: { type: 'integer', minimum: 1, maximum: 4 },
      level: { type: 'integer', minimum: 1, maximum: 3 },
      leadAgency: text(),
      nextReview: date,
    }),
  },
  risk_of_serious_harm: {
    holder: 'probation',
    schema: object({
      level: enumOf('low', 'medium', 'high', 'very_high'),
      riskTo: {
        type: 'array',
        uniqueItems: true,
        items: enumOf('children', 'known_adult', 'public', 'staff'),
      },
      summary: longText,
    }),
  },
  offence_summary: {
    holder: 'probation',
    schema: object({ index: text(), summary: longText, sentence: text() }),
  },
  licence_conditions: { holder: 'probation', schema: listOf('items', { condition: longText, until: date }) },
  current_address: {
    holder: 'probation',
    schema: object({ line1: text(), town: text(), postcode: text(10), since: date }),
  },
  supervising_officer: {
    holder: 'probation',
    schema: object({ name: text(), team: text(), phone: text(40), email: text(254) }),
  },
  cp_plan: {
    holder: 'children_social_care',
    schema: object({
      status: enumOf('active', 'ended', 'none'),
      category: text(),
      startDate: date,
      endDate: date,
    }),
  },
  looked_after: {
    holder: 'children_social_care',
    schema: object({ status: text(), legalStatus: text(), since: date }),
  },
  allocated_worker: {
    holder: 'children_social_care',
    schema: object({ name: text(), team: text(), phone: text(40), email: text(254) }),
  },
  case_summary: { holder: 'children_social_care', schema: object({ summary: longText }) },
  household: {
    holder: 'children_social_care',
    schema: listOf('members', { name: text(), relationship: text(), dateOfBirth: date }),
  },
  flags: {
    holder: 'flag_index',
    schema: object(
      {
        flag: enumOf(...FLAG_TYPES),
        // Free-form, but flat: named scalar facts (`details.level`), nothing a filter must descend into.
        details: {
          type: 'object',
          maxProperties: 50,
          additionalProperties: {
            anyOf: [
              { type: 'string', maxLength: 2000 },
              { type: 'number' },
              { type: 'boolean' },
              { type: 'null' },
            ],
          },
        },
        contact: contactSchema,
      },
      ['flag', 'contact'],
    ),
  },
} as const satisfies Record<string, CategoryDef>;

export type Category = keyof typeof CATEGORIES;
export const CATEGORY_NAMES = Object.keys(CATEGORIES) as Category[];

export function isCategory(value: string): value is Category {
  return Object.hasOwn(CATEGORIES, value);
}

export function isPurpose(value: string): value is Purpose {
  return (PURPOSES as readonly string[]).includes(value);
}

export function isFlagType(value: string): value is FlagType {
  return Object.hasOwn(FLAG_PUBLISHERS, value);
}

/** The categories an agency kind answers for (flags are answered by the flag index, not listed here). */
export function categoriesHeldBy(kind: AgencyKind): Category[] {
  return CATEGORY_NAMES.filter((c) => CATEGORIES[c].holder === kind);
}

/** Whether requests to an agency of `kind` can cover `category`: flags are held for every publisher. */
export function holds(kind: AgencyKind, category: Category): boolean {
  const holder = CATEGORIES[category].holder;
  return holder === kind || holder === 'flag_index';
}

interface PathInfo {
  /** Every concrete field path, in schema order: what "*" means. */
  leaves: readonly string[];
  /** Paths that stand for several leaves (`items`), expanded when a rule names them. */
  groups: ReadonlyMap<string, readonly string[]>;
  /** A prefix under which any `prefix.<name>` is a valid path (the free-form `details` of flags). */
  freeForm?: string;
}

function pathInfo(schema: JsonSchema): PathInfo {
  const leaves: string[] = [];
  const groups = new Map<string, string[]>();
  let freeForm: string | undefined;
  const props = schema.properties as Record<string, JsonSchema>;
  for (const [name, sub] of Object.entries(props)) {
    const itemProps = (sub.items as JsonSchema | undefined)?.properties as
      | Record<string, JsonSchema>
      | undefined;
    if (sub.type === 'array' && itemProps) {
      const children = Object.keys(itemProps).map((k) => `${name}.${k}`);
      leaves.push(...children);
      groups.set(name, children);
    } else {
      if (sub.type === 'object' && !sub.properties) freeForm = name;
      leaves.push(name);
    }
  }
  return { leaves, groups, ...(freeForm ? { freeForm } : {}) };
}

const PATHS = new Map<Category, PathInfo>(CATEGORY_NAMES.map((c) => [c, pathInfo(CATEGORIES[c].schema)]));

/** Every concrete field path of a category: what a `"*"` share means. */
export function leafPaths(category: Category): readonly string[] {
  return PATHS.get(category)!.leaves;
}

const FREE_FORM_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * The concrete paths a path a rule names stands for: itself for a field, every element field for a list
 * (`items`), or undefined when the category has no such field.
 */
export function expandPath(category: Category, path: string): readonly string[] | undefined {
  const info = PATHS.get(category)!;
  const group = info.groups.get(path);
  if (group) return group;
  if (info.leaves.includes(path)) return [path];
  if (
    info.freeForm &&
    path.startsWith(`${info.freeForm}.`) &&
    FREE_FORM_NAME.test(path.slice(info.freeForm.length + 1))
  ) {
    return [path];
  }
  return undefined;
}

/** The valid paths of a category, for error messages and documentation. */
export function describePaths(category: Category): string[] {
  const info = PATHS.get(category)!;
  return [...info.groups.keys(), ...info.leaves, ...(info.freeForm ? [`${info.freeForm}.<field>`] : [])];
}

// One compiler for all category schemas, compiled once at import.
const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<Category, ValidateFunction>(
  CATEGORY_NAMES.map((c) => [c, ajv.compile({ $id: `sgw:category:${c}`, ...CATEGORIES[c].schema })]),
);

export interface PayloadError {
  path: string;
  message: string;
}

function describe(e: ErrorObject): PayloadError {
  const params = e.params as {
    additionalProperty?: string;
    missingProperty?: string;
    allowedValues?: unknown[];
  };
  const extra = params.additionalProperty ?? params.missingProperty;
  const path = extra ? `${e.instancePath}/${extra}` : e.instancePath || '/';
  let message = e.message ?? 'is invalid';
  if (params.additionalProperty) message = 'is not a field of this category';
  // Never echo the offending value: a payload holds personal data.
  if (params.allowedValues) message = `must be one of: ${params.allowedValues.join(', ')}`;
  return { path, message };
}

/** Validates a holder's payload for a category; errors name JSON pointers and never echo values. */
export function validateCategoryPayload(category: string, payload: unknown): PayloadError[] {
  if (!isCategory(category)) return [{ path: '/', message: 'unknown category' }];
  const validate = validators.get(category)!;
  if (validate(payload)) return [];
  return (validate.errors ?? []).map(describe);
}

/** The JSON Schema of a category's payload (e.g. to publish it or to embed it in a route schema). */
export function categorySchema(category: Category): JsonSchema {
  return CATEGORIES[category].schema;
}
