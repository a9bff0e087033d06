import { AGENCIES } from '../helpers/gateway.js';

/** Shared by the security tests: agency ids and distinctive personal data to search logs and tables for. */
export const CSC = AGENCIES.csc.id;
export const CSC2 = AGENCIES.csc2.id;
export const GP = AGENCIES.gp.id;
export const POLICE = AGENCIES.police.id;
export const PROBATION = AGENCIES.probation.id;

/** A valid NHS number per scenario, in a range no other test file uses. */
export function nhsNumber(n: number): string {
  for (let base = 970_000_000 + n * 10; ; base++) {
    const d = String(base);
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(d[i]) * (10 - i);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${d}${check === 11 ? 0 : check}`;
  }
}

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
