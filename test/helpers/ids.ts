import { AGENCIES } from './gateway.js';

/** The standard test agencies' ids. */
export const CSC = AGENCIES.csc.id;
export const CSC2 = AGENCIES.csc2.id;
export const GP = AGENCIES.gp.id;
export const POLICE = AGENCIES.police.id;
export const PROBATION = AGENCIES.probation.id;

/**
 * The first valid NHS number (modulus 11) at or after a nine-digit `base`: test files draw from ranges of
 * their own so that their consent records and ledger queries never meet.
 */
export function validNhsNumberFrom(base: number): string {
  for (let b = base; ; b++) {
    const digits = String(b);
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${digits}${check === 11 ? 0 : check}`;
  }
}
