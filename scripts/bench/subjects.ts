import { isValidNhsNumber } from '../../src/http/subject.js';

/**
 * Valid NHS numbers (modulus 11, issued ranges) from a nine-digit `base` on, in order: each journey
 * draws from a base of its own, so that its subjects never meet another's.
 */
export function* nhsNumbers(base: number): Generator<string, never> {
  for (let b = base; ; b++) {
    const digits = String(b).padStart(9, '0');
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
    const check = (11 - (sum % 11)) % 11;
    const candidate = `${digits}${check}`;
    if (check !== 10 && isValidNhsNumber(candidate)) yield candidate;
  }
}

/** The first `count` numbers of `nhsNumbers(base)`. */
export function takeNhsNumbers(base: number, count: number): string[] {
  const out: string[] = [];
  const numbers = nhsNumbers(base);
  while (out.length < count) out.push(numbers.next().value);
  return out;
}
