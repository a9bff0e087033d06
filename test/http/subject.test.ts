import t from 'tap';
import { AppError } from '../../src/http/errors.js';
import { checkSubject, isValidNhsNumber, nhsNumberProblem, type Subject } from '../../src/http/subject.js';

/** The nine digits followed by their modulus-11 check digit (a prefix whose check would be 10 is skipped). */
function withCheckDigit(nine: string): string {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) throw new Error(`${nine} has no valid check digit`);
  return `${nine}${check === 11 ? 0 : check}`;
}

/** The first valid NHS number at or after a nine-digit prefix (leading zeros kept). */
function firstValid(prefix: number): string {
  for (let p = prefix; ; p++) {
    try {
      return withCheckDigit(String(p).padStart(9, '0'));
    } catch {}
  }
}

const errorsOf = (fn: () => unknown): Array<{ path: string; message: string }> => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError && err.code === 'validation_failed') return err.extras.errors ?? [];
    throw err;
  }
  return [];
};

t.test('NHS numbers: the check digit and the issued ranges', async (t) => {
  for (const ok of [
    '9434765919',
    withCheckDigit('999000001'),
    firstValid(10_100_000), // 0101000000 on: Scotland (CHI)
    firstValid(311_299_990),
    firstValid(320_000_000), // Northern Ireland
    firstValid(399_999_990),
    firstValid(400_000_000), // England and Wales
    '4010232137',
    firstValid(600_000_000),
    firstValid(799_999_990),
    firstValid(900_000_000), // test and synthetic numbers
    firstValid(970_000_000),
  ]) {
    t.equal(nhsNumberProblem(ok), undefined, `${ok} is valid`);
    t.ok(isValidNhsNumber(ok));
  }
  for (const outside of [
    '0000000000',
    firstValid(0),
    firstValid(10_099_990), // just below 0101000000
    firstValid(311_300_000), // 3113000000 to 3199999999
    firstValid(319_999_990),
    firstValid(500_000_000),
    firstValid(599_999_990),
    firstValid(800_000_000),
    firstValid(899_999_990),
  ]) {
    t.equal(nhsNumberProblem(outside), 'is not in a range NHS numbers are issued from', outside);
    t.notOk(isValidNhsNumber(outside));
  }
  t.equal(nhsNumberProblem('9434765918'), 'must be 10 digits with a valid modulus-11 check digit');
  t.equal(nhsNumberProblem('943476591'), 'must be 10 digits with a valid modulus-11 check digit');
});

t.test('dates of birth and expected delivery dates must be plausible', async (t) => {
  const today = '2026-11-27';
  const check = (s: Partial<Subject>) =>
    errorsOf(() =>
      checkSubject({ type: 'child', nhsNumber: '9434765919', ...s } as Subject, '/subject', today),
    );
  t.same(check({ dateOfBirth: '2019-05-04' }), []);
  t.same(check({ dateOfBirth: '1900-01-01' }), [], 'the earliest');
  t.same(check({ dateOfBirth: today }), [], 'born today');
  for (const dob of ['1899-12-31', '0000-01-01', '2026-11-28', '9999-12-31']) {
    t.same(
      check({ dateOfBirth: dob }),
      [{ path: '/subject/dateOfBirth', message: 'must be a date from 1900-01-01 to today' }],
      dob,
    );
  }
  const unborn = (edd: string) =>
    errorsOf(() =>
      checkSubject(
        { type: 'unborn', name: { given: 'Jo', family: 'Example' }, expectedDeliveryDate: edd },
        '/relatedChildren/0',
        today,
      ),
    );
  t.same(unborn('2027-03-01'), []);
  t.same(unborn('2025-11-27'), [], 'one year ago, the earliest');
  t.same(unborn('2027-11-27'), [], 'one year ahead, the latest');
  for (const edd of ['2025-11-26', '2027-11-28', '0000-01-01', '9999-12-31']) {
    t.same(
      unborn(edd),
      [
        {
          path: '/relatedChildren/0/expectedDeliveryDate',
          message: 'must be within one year of today, either side',
        },
      ],
      edd,
    );
  }
  const both = check({ nhsNumber: '0000000000', dateOfBirth: '9999-12-31' });
  t.same(
    both.map((e) => e.path),
    ['/subject/nhsNumber', '/subject/dateOfBirth'],
    'every problem is named',
  );
  t.notMatch(JSON.stringify(both), /0000000000|9999/, 'never the value');
});

t.test('today defaults to the date in England', async (t) => {
  const tomorrow = new Date(Date.now() + 36 * 3600 * 1000).toISOString().slice(0, 10);
  t.equal(
    errorsOf(() =>
      checkSubject({ type: 'child', nhsNumber: '9434765919', dateOfBirth: tomorrow }, '/subject'),
    ).length,
    1,
  );
});
