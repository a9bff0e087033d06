import { type Static, Type } from '@sinclair/typebox';
import { type CivilDate, londonDate } from '../calendar/index.js';
import { AppError, type FieldError } from './errors.js';
import { stringEnum } from './schema.js';

/**
 * The ranges NHS numbers are issued from: Scotland's CHI numbers (which begin with the date of birth,
 * DDMMYY), Northern Ireland, England and Wales, and 900 to 999, kept for test and synthetic numbers (the
 * documented example 943 476 5919 and the 999 range are in it). Ten-digit strings compare as numbers.
 */
const ISSUED_RANGES: ReadonlyArray<readonly [string, string]> = [
  ['0101000000', '3112999999'],
  ['3200000000', '3999999999'],
  ['4000000000', '4999999999'],
  ['6000000000', '7999999999'],
  ['9000000000', '9999999999'],
];

/**
 * What is wrong with a normalised NHS number, or undefined when nothing is: 10 digits, the last a
 * modulus-11 check digit over weights 10..2 (a check of 10 is invalid), in an issued range. The message
 * names the rule, never the value.
 */
export function nhsNumberProblem(value: string): string | undefined {
  const checkDigit = 'must be 10 digits with a valid modulus-11 check digit';
  if (!/^\d{10}$/.test(value)) return checkDigit;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10 || (check === 11 ? 0 : check) !== Number(value[9])) return checkDigit;
  if (!ISSUED_RANGES.some(([low, high]) => value >= low && value <= high)) {
    return 'is not in a range NHS numbers are issued from';
  }
  return undefined;
}

export const isValidNhsNumber = (value: string): boolean => nhsNumberProblem(value) === undefined;

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

/** Nobody alive was born before this: an earlier date of birth is a slip or a probe. */
const EARLIEST_BIRTH = '1900-01-01';

/** The same day `years` later (29 February becomes 1 March), as YYYY-MM-DD. */
function yearsFrom(date: CivilDate, years: number): CivilDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const shifted = new Date(Date.UTC(2000, m - 1, d));
  shifted.setUTCFullYear(y + years);
  return shifted.toISOString().slice(0, 10);
}

/**
 * The rules JSON Schema cannot express: a valid NHS number; plausible dates (a date of birth from
 * 1900-01-01 to today; an expected delivery date within a year of today either side, since a pregnancy
 * lasts well under a year and a record may be made a while after the birth); and at least one usable
 * identifier (for an unborn child: a parent's name with the expected delivery date). `today` is the date
 * in England. Returns the normalised subject. Error messages name the field, never its value.
 */
export function checkSubject(
  subject: Subject,
  at: string,
  today: CivilDate = londonDate(new Date()),
): Subject {
  const errors: FieldError[] = [];
  const out: Subject = { ...subject };
  if (subject.nhsNumber !== undefined) {
    out.nhsNumber = normaliseNhsNumber(subject.nhsNumber);
    const problem = nhsNumberProblem(out.nhsNumber);
    if (problem) errors.push({ path: `${at}/nhsNumber`, message: problem });
  }
  const dob = subject.dateOfBirth;
  if (dob !== undefined && (dob < EARLIEST_BIRTH || dob > today)) {
    errors.push({ path: `${at}/dateOfBirth`, message: `must be a date from ${EARLIEST_BIRTH} to today` });
  }
  const edd = subject.expectedDeliveryDate;
  if (edd !== undefined && (edd < yearsFrom(today, -1) || edd > yearsFrom(today, 1))) {
    errors.push({
      path: `${at}/expectedDeliveryDate`,
      message: 'must be within one year of today, either side',
    });
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
