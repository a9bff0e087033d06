import fc from 'fast-check';
import { PLACEHOLDER } from './plant.js';

/**
 * Valid-looking values drawn from a route's JSON Schema as the OpenAPI document publishes it: what an
 * agency's system would send, with personal data planted (placeholders, see plant.ts) wherever a field
 * holds it. The mutators (mutate.ts) then break them.
 */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minProperties?: number;
  maxProperties?: number;
}

/** What the generators know of the gateway they aim at: ids that name real things. */
export interface Targets {
  agencies: readonly string[];
  ids: readonly string[];
}

/** Fields that hold personal data, by name, and what is planted in them. */
const PLANT_BY_FIELD: Record<string, keyof typeof PLACEHOLDER> = {
  nhsNumber: 'nhs',
  given: 'given',
  family: 'family',
  // A string `name` (who gave consent, a practitioner); a subject's `name` is an object and holds these.
  name: 'family',
  dateOfBirth: 'dob',
  postcode: 'postcode',
  summary: 'text',
  justification: 'text',
  evidence: 'text',
  reason: 'text',
  feedbackToReferrer: 'text',
  note: 'text',
  details: 'text',
};

/** Fields that name an agency. */
const AGENCY_FIELDS = new Set(['to', 'agency', 'agencies', 'iss']);

const MAX_ITEMS = 3;
const MAX_TEXT = 40;

const day = (d: Date) => d.toISOString().slice(0, 10);
/** Dates away from the planted dates of birth (1901-1939), so that a date here is never taken for one. */
const dates = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2035-12-31T00:00:00Z'),
  noInvalidDate: true,
});

const nearToday = fc.integer({ min: -150, max: 150 }).map((days) => new Date(Date.now() + days * 86_400_000));

function stringOf(schema: JsonSchema, targets: Targets, field: string | undefined): fc.Arbitrary<string> {
  const plant = field ? PLANT_BY_FIELD[field] : undefined;
  const max = schema.maxLength ?? MAX_TEXT;
  const min = schema.minLength ?? 0;
  let base: fc.Arbitrary<string>;
  if (field && AGENCY_FIELDS.has(field)) base = fc.constantFrom(...targets.agencies);
  // The gateway takes one within a year of today: a random date would make most subjects invalid.
  else if (field === 'expectedDeliveryDate') base = nearToday.map(day);
  else if (schema.format === 'date') base = dates.map(day);
  else if (schema.format === 'date-time') base = dates.map((d) => d.toISOString());
  else if (schema.format === 'uuid') base = fc.oneof(fc.constantFrom(...targets.ids), fc.uuid());
  else if (schema.format === 'email') base = fc.constantFrom('duty@north.example', 'mash@county.example');
  else if (schema.pattern) {
    const re = new RegExp(schema.pattern);
    base = fc.stringMatching(re).filter((s) => s.length >= min && s.length <= max);
  } else base = fc.string({ minLength: Math.max(min, 1), maxLength: Math.min(max, MAX_TEXT) });
  if (!plant) return base;
  return fc.oneof({ weight: 4, arbitrary: fc.constant(PLACEHOLDER[plant]) }, { weight: 1, arbitrary: base });
}

function objectOf(schema: JsonSchema, targets: Targets, depth: number): fc.Arbitrary<unknown> {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const names = Object.keys(props);
  if (names.length === 0) {
    // An open object (a category's payload, checked against its own schema by the handler).
    return fc.dictionary(
      fc.constantFrom('summary', 'date', 'items', 'name', 'notes', 'level'),
      fc.oneof(fc.constant(PLACEHOLDER.text), fc.string({ maxLength: 12 }), fc.integer()),
      { maxKeys: 4 },
    );
  }
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) shape[name] = arbitraryFor(props[name] ?? {}, targets, name, depth + 1);
  let arb = fc.record(shape, { requiredKeys: names.filter((n) => required.has(n)) });
  if (schema.minProperties) {
    const min = schema.minProperties;
    arb = arb.filter((o) => Object.keys(o).length >= min);
  }
  return arb;
}

/** A valid-looking value for `schema`; `field` is the property's name, which says what it holds. */
export function arbitraryFor(
  schema: JsonSchema,
  targets: Targets,
  field?: string,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return fc.oneof(...branches.map((b) => arbitraryFor(b, targets, field, depth)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringOf(schema, targets, field);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = arbitraryFor(schema.items ?? {}, targets, field, depth + 1);
      const constraints = {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS)),
      };
      return schema.uniqueItems
        ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) })
        : fc.array(items, constraints);
    }
    case 'object':
      return objectOf(schema, targets, depth);
    default:
      if (schema.properties) return objectOf(schema, targets, depth);
      return depth > 4 ? fc.constant({}) : objectOf({}, targets, depth);
  }
}
