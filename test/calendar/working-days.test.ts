import t from 'tap';
import {
  acknowledgeBy,
  addWorkingDays,
  bankHolidays,
  easterSunday,
  endOfLondonDay,
  isWorkingDay,
  londonDate,
  respondBy,
  SUPPORTED_YEARS,
  UnsupportedYearError,
} from '../../src/calendar/index.js';

const dates = (year: number) => bankHolidays(year).map((h) => h.date);

t.test('bank holidays by rule match the published lists', async (t) => {
  // gov.uk, England and Wales.
  t.same(dates(2026), [
    '2026-01-01',
    '2026-04-03',
    '2026-04-06',
    '2026-05-04',
    '2026-05-25',
    '2026-08-31',
    '2026-12-25',
    '2026-12-28',
  ]);
  t.same(dates(2025), [
    '2025-01-01',
    '2025-04-18',
    '2025-04-21',
    '2025-05-05',
    '2025-05-26',
    '2025-08-25',
    '2025-12-25',
    '2025-12-26',
  ]);
  t.same(dates(2024), [
    '2024-01-01',
    '2024-03-29',
    '2024-04-01',
    '2024-05-06',
    '2024-05-27',
    '2024-08-26',
    '2024-12-25',
    '2024-12-26',
  ]);
  // Christmas on a Saturday: Monday 27 and Tuesday 28.
  t.same(dates(2021), [
    '2021-01-01',
    '2021-04-02',
    '2021-04-05',
    '2021-05-03',
    '2021-05-31',
    '2021-08-30',
    '2021-12-27',
    '2021-12-28',
  ]);
  // New Year's Day on a Saturday: Monday 3 January.
  t.equal(dates(2022)[0], '2022-01-03');
  // New Year's Day on a Sunday: Monday 2 January; Christmas on a Monday.
  t.equal(dates(2023)[0], '2023-01-02');
  t.same(dates(2023).slice(-2), ['2023-12-25', '2023-12-26']);
  // Christmas on a Friday: Boxing Day moves to Monday 28.
  t.same(dates(2020).slice(-2), ['2020-12-25', '2020-12-28']);
  t.same(dates(2027), [
    '2027-01-01',
    '2027-03-26',
    '2027-03-29',
    '2027-05-03',
    '2027-05-31',
    '2027-08-30',
    '2027-12-27',
    '2027-12-28',
  ]);
});

t.test('proclamations move and add bank holidays', async (t) => {
  t.ok(dates(2020).includes('2020-05-08'), 'VE Day 2020: early May moved to Friday 8 May');
  t.notOk(dates(2020).includes('2020-05-04'));
  const y2022 = dates(2022);
  t.ok(y2022.includes('2022-06-02') && y2022.includes('2022-06-03'), 'Platinum Jubilee');
  t.notOk(y2022.includes('2022-05-30'), 'spring bank holiday moved to 2 June');
  t.ok(y2022.includes('2022-09-19'), 'State Funeral');
  t.equal(y2022.length, 10);
  t.ok(dates(2023).includes('2023-05-08'), 'Coronation');
  t.equal(dates(2023).length, 9);
});

t.test('Easter by computus', async (t) => {
  const known: Record<number, string> = {
    2015: '2015-04-05',
    2016: '2016-03-27',
    2019: '2019-04-21',
    2024: '2024-03-31',
    2025: '2025-04-20',
    2026: '2026-04-05',
    2030: '2030-04-21',
    2035: '2035-03-25',
    2038: '2038-04-25',
    2285: '2285-03-22',
  };
  for (const [y, d] of Object.entries(known)) t.equal(easterSunday(Number(y)), d, y);
});

t.test('a year outside the table is a typed error, not a guess', async (t) => {
  t.throws(() => bankHolidays(SUPPORTED_YEARS.last + 1), UnsupportedYearError);
  t.throws(() => isWorkingDay('2014-06-02'), UnsupportedYearError);
  t.throws(() => addWorkingDays('2035-12-28', 5), UnsupportedYearError, 'crossing into an unknown year');
  const err = t.throws(() => bankHolidays(2036)) as UnsupportedYearError;
  t.equal(err.year, 2036);
  t.match(err.message, /2015\.\.2035/);
  t.equal(bankHolidays(SUPPORTED_YEARS.first).length, 8);
});

t.test('isWorkingDay: weekends and bank holidays', async (t) => {
  t.ok(isWorkingDay('2026-12-24'));
  t.notOk(isWorkingDay('2026-12-25'));
  t.notOk(isWorkingDay('2026-12-26'), 'Saturday');
  t.notOk(isWorkingDay('2026-12-27'), 'Sunday');
  t.notOk(isWorkingDay('2026-12-28'), 'substitute Boxing Day');
  t.ok(isWorkingDay('2026-12-29'));
  t.notOk(isWorkingDay('2026-04-03'), 'Good Friday');
  t.notOk(isWorkingDay('2026-04-06'), 'Easter Monday');
  t.ok(isWorkingDay('2026-04-07'));
  // A Date is the London day: 23:30 UTC on 2 April 2026 (BST) is already Good Friday in London.
  t.notOk(isWorkingDay(new Date('2026-04-02T23:30:00Z')));
  t.ok(isWorkingDay(new Date('2026-04-02T22:30:00Z')));
  t.throws(() => isWorkingDay('2026-02-30'), RangeError);
  t.throws(() => isWorkingDay('26-1-1'), RangeError);
});

t.test('addWorkingDays', async (t) => {
  t.equal(addWorkingDays('2026-12-24', 1), '2026-12-29');
  t.equal(addWorkingDays('2026-12-24', 2), '2026-12-30');
  t.equal(addWorkingDays('2026-12-31', 1), '2027-01-04', 'over New Year and a weekend');
  t.equal(addWorkingDays('2026-04-02', 1), '2026-04-07', 'over Easter');
  t.equal(addWorkingDays('2026-06-05', 1), '2026-06-08', 'Friday to Monday');
  t.equal(addWorkingDays('2026-06-06', 1), '2026-06-08', 'from a Saturday');
  t.equal(addWorkingDays('2026-06-08', 0), '2026-06-08');
  t.equal(addWorkingDays('2026-12-29', -1), '2026-12-24', 'backwards');
  t.equal(addWorkingDays('2026-01-02', 45), '2026-03-06', '45 working days (assessment)');
  t.equal(addWorkingDays('2022-05-31', 2), '2022-06-06', 'over the jubilee');
  t.throws(() => addWorkingDays('2026-01-01', 1.5), RangeError);
});

t.test('acknowledgeBy: the contract rule for concerns', async (t) => {
  // DOMAIN.md: received Thursday 24 December 2026, decided by the end of Tuesday 29 December (GMT).
  t.equal(
    acknowledgeBy(new Date('2026-12-24T10:00:00Z'), 'standard').toISOString(),
    '2026-12-29T23:59:59.000Z',
  );
  t.equal(
    acknowledgeBy(new Date('2026-12-24T23:59:00Z'), 'standard').toISOString(),
    '2026-12-29T23:59:59.000Z',
  );
  // In BST the end of the day is 22:59:59 UTC.
  t.equal(
    acknowledgeBy(new Date('2026-07-02T09:00:00Z'), 'standard').toISOString(),
    '2026-07-03T22:59:59.000Z',
  );
  // Received late Friday evening UTC in BST is already Saturday in London: decided Monday.
  t.equal(
    acknowledgeBy(new Date('2026-07-03T23:30:00Z'), 'standard').toISOString(),
    '2026-07-06T22:59:59.000Z',
  );
  // Received on Maundy Thursday: Good Friday and Easter Monday are not working days.
  t.equal(
    acknowledgeBy(new Date('2026-04-02T12:00:00Z'), 'standard').toISOString(),
    '2026-04-07T22:59:59.000Z',
  );
  // Received on Saturday: Monday.
  t.equal(
    acknowledgeBy(new Date('2026-11-14T12:00:00Z'), 'standard').toISOString(),
    '2026-11-16T23:59:59.000Z',
  );
  t.equal(
    acknowledgeBy(new Date('2026-12-24T10:00:00Z'), 'immediate').toISOString(),
    '2026-12-24T11:00:00.000Z',
  );
  t.throws(() => acknowledgeBy(new Date('nope'), 'standard'), RangeError);
});

t.test('deadlines across the clock changes', async (t) => {
  // Clocks go forward on Sunday 29 March 2026: received Friday 27 in GMT, due Tuesday 31 in BST.
  t.equal(
    respondBy(new Date('2026-03-27T10:00:00Z'), { workingDays: 2 }).toISOString(),
    '2026-03-31T22:59:59.000Z',
  );
  // Clocks go back on Sunday 25 October 2026: received Friday 23 in BST, due Monday 26 in GMT.
  t.equal(
    acknowledgeBy(new Date('2026-10-23T10:00:00Z'), 'standard').toISOString(),
    '2026-10-26T23:59:59.000Z',
  );
  t.equal(endOfLondonDay('2026-03-29').toISOString(), '2026-03-29T22:59:59.000Z');
  t.equal(endOfLondonDay('2026-10-25').toISOString(), '2026-10-25T23:59:59.000Z');
  t.equal(endOfLondonDay('2026-03-28').toISOString(), '2026-03-28T23:59:59.000Z');
  // Hours are elapsed time: 4 hours across the spring change is 4 real hours.
  t.equal(
    respondBy(new Date('2026-03-29T00:30:00Z'), { hours: 4 }).toISOString(),
    '2026-03-29T04:30:00.000Z',
  );
  t.equal(londonDate(new Date('2026-10-25T00:30:00Z')), '2026-10-25');
  t.equal(londonDate(new Date('2026-06-30T23:00:00Z')), '2026-07-01');
});

t.test('respondBy', async (t) => {
  t.equal(
    respondBy(new Date('2026-12-23T15:00:00Z'), { workingDays: 1 }).toISOString(),
    '2026-12-24T23:59:59.000Z',
  );
  t.equal(
    respondBy(new Date('2026-12-23T15:00:00Z'), { workingDays: 2 }).toISOString(),
    '2026-12-29T23:59:59.000Z',
  );
  t.equal(
    respondBy(new Date('2026-05-01T15:00:00Z'), { workingDays: 1 }).toISOString(),
    '2026-05-05T22:59:59.000Z',
    'May Day',
  );
  t.equal(
    respondBy(new Date('2026-12-24T10:00:00Z'), { hours: 24 }).toISOString(),
    '2026-12-25T10:00:00.000Z',
  );
  t.equal(
    respondBy(new Date('2026-12-24T10:00:00Z'), { hours: 0.5 }).toISOString(),
    '2026-12-24T10:30:00.000Z',
  );
  t.throws(() => respondBy(new Date(), { workingDays: 0 }), RangeError);
  t.throws(() => respondBy(new Date(), { hours: -1 }), RangeError);
});

t.test('every supported day: the working-day count of a year is consistent', async (t) => {
  for (let y = SUPPORTED_YEARS.first; y <= SUPPORTED_YEARS.last; y++) {
    let working = 0;
    let weekdays = 0;
    for (
      let d = new Date(Date.UTC(y, 0, 1));
      d.getUTCFullYear() === y;
      d = new Date(d.getTime() + 86_400_000)
    ) {
      const iso = d.toISOString().slice(0, 10);
      if (isWorkingDay(iso)) working++;
      if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) weekdays++;
    }
    const holidays = bankHolidays(y);
    t.equal(weekdays - working, holidays.length, `${y}: every bank holiday falls on a weekday, none twice`);
  }
});
