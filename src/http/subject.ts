import { type Static, Type } from '@sinclair/typebox';
import { AppError, type FieldError } from './errors.js';
import { stringEnum } from './schema.js';

/** NHS number: 10 digits, the last a modulus-11 check digit over weights 10..2; a check of 10 is invalid. */
export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(value[9]);
}

/** Spaces are allowed on input (`943 476 5919`); the stored form is the ten digits. */
export function normaliseNhsNumber(value: string): string {
  return value.replace(/\s+/g, '');
}

const PNC_ID = '^[0-9]{2}(?:[0-9]{2})?/[0-9]{1,7}[A-Za-z]$';
const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

export const PersonNameSchema = Type.Object(
  {
    given: Type.String({ minLength: 1, maxLength: 100 }),
    family: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);

export const SubjectSchema = Type.Object(
  {
    type: stringEnum(['child', 'adult', 'unborn'] as const),
    nhsNumber: Type.Optional(Type.String({ pattern: '^[0-9 ]{10,13}$' })),
    pncId: Type.Optional(Type.String({ pattern: PNC_ID, maxLength: 20 })),
    name: Type.Optional(PersonNameSchema),
    dateOfBirth: Type.Optional(Type.String({ pattern: DATE, format: 'date' })),
    expectedDeliveryDate: Type.Optional(Type.String({ pattern: DATE, format: 'date' })),
    postcode: Type.Optional(Type.String({ minLength: 2, maxLength: 10 })),
  },
  { additionalProperties: false },
);

export type Subject = Static<typeof SubjectSchema>;

/** The identifiers of a subject the ledger hashes (it stores only keyed hashes, never these values). */
export function identifiersOf(s: Partial<Subject>) {
  return {
    ...(s.nhsNumber ? { nhsNumber: s.nhsNumber } : {}),
    ...(s.pncId ? { pncId: s.pncId } : {}),
    ...(s.name ? { name: s.name } : {}),
    ...(s.dateOfBirth ? { dateOfBirth: s.dateOfBirth } : {}),
    ...(s.expectedDeliveryDate ? { expectedDeliveryDate: s.expectedDeliveryDate } : {}),
  };
}

/**
 * The rules JSON Schema cannot express: a valid NHS check digit, and at least one usable identifier
 * (for an unborn child: a parent's name with the expected delivery date). Returns the normalised subject.
 * Error messages name the field, never its value.
 */
export function checkSubject(subject: Subject, at: string): Subject {
  const errors: FieldError[] = [];
  const out: Subject = { ...subject };
  if (subject.nhsNumber !== undefined) {
    out.nhsNumber = normaliseNhsNumber(subject.nhsNumber);
    if (!isValidNhsNumber(out.nhsNumber)) {
      errors.push({
        path: `${at}/nhsNumber`,
        message: 'must be 10 digits with a valid modulus-11 check digit',
      });
    }
  }
  if (subject.pncId !== undefined) out.pncId = subject.pncId.toUpperCase();
  const byDemographics =
    subject.type === 'unborn'
      ? subject.name !== undefined && subject.expectedDeliveryDate !== undefined
      : subject.name !== undefined && subject.dateOfBirth !== undefined;
  if (out.nhsNumber === undefined && out.pncId === undefined && !byDemographics) {
    errors.push({
      path: at || '/',
      message:
        subject.type === 'unborn'
          ? "needs nhsNumber, pncId, or a parent's name with expectedDeliveryDate"
          : 'needs nhsNumber, pncId, or name with dateOfBirth',
    });
  }
  if (errors.length > 0) throw new AppError('validation_failed', 'The subject is not valid.', { errors });
  return out;
}

/** checkSubject for a body checked as a whole: its errors join `errors` instead of being thrown. */
export function checkSubjectInto(errors: FieldError[], subject: Subject, at: string): Subject {
  try {
    return checkSubject(subject, at);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    errors.push(...(err.extras.errors ?? []));
    return subject;
  }
}
