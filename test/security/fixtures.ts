import { validNhsNumberFrom } from '../helpers/ids.js';

/** Shared by the security tests: agency ids and distinctive personal data to search logs and tables for. */
export { CSC, CSC2, GP, POLICE, PROBATION } from '../helpers/ids.js';

/** A valid NHS number per scenario, in a range no other test file uses. */
export const nhsNumber = (n: number): string => validNhsNumberFrom(970_000_000 + n * 10);

export const FAMILY = 'Quillfeather-Oyelaran';
export const GIVEN = 'Perpetua';
export const DOB = '2018-02-28';
export const POSTCODE = 'ZZ99 7QX';

export const child = (nhs: string) => ({
  type: 'child',
  nhsNumber: nhs,
  name: { given: GIVEN, family: FAMILY },
  dateOfBirth: DOB,
  postcode: POSTCODE,
});

export const REGISTRATION = {
  practiceCode: 'Y01234',
  practiceName: 'Riverside Surgery',
  registeredSince: '2019-06-01',
  usualGp: 'Dr Patel',
};
