/**
 * England and Wales bank holidays. Most follow fixed rules (Banking and Financial Dealings Act 1971 and
 * the annual proclamations that have kept the pattern); some years are changed by royal proclamation.
 * The rules are computed; the proclamations are a table. A proclamation made after this table was written
 * must be added to PROCLAMATIONS (and the year range widened) before the gateway relies on that year:
 * a year outside SUPPORTED_YEARS throws UnsupportedYearError rather than guessing.
 */

/** A civil date in England, `YYYY-MM-DD`. */
export type CivilDate = string;

export const SUPPORTED_YEARS = { first: 2015, last: 2035 } as const;

export class UnsupportedYearError extends Error {
  readonly year: number;
  constructor(year: number) {
    super(
      `bank holidays are only known for ${SUPPORTED_YEARS.first}..${SUPPORTED_YEARS.last}; ` +
        `${year} is outside that range`,
    );
    this.name = 'UnsupportedYearError';
    this.year = year;
  }
}

export interface BankHoliday {
  date: CivilDate;
  name: string;
}

type RuleName =
  | 'new_year'
  | 'good_friday'
  | 'easter_monday'
  | 'early_may'
  | 'spring'
  | 'summer'
  | 'christmas'
  | 'boxing_day';

interface Proclamation {
  /** Moves a rule-based holiday to another date in the same year. */
  moves?: Partial<Record<RuleName, CivilDate>>;
  /** One-off extra bank holidays. */
  extra?: BankHoliday[];
}

/** Royal proclamations that change the rule-based pattern within SUPPORTED_YEARS. */
export const PROCLAMATIONS: Readonly<Record<number, Proclamation>> = {
  // VE Day 75th anniversary: the early May bank holiday moved from Monday 4 May.
  2020: { moves: { early_may: '2020-05-08' } },
  // Platinum Jubilee: spring bank holiday moved to Thursday 2 June, plus Friday 3 June;
  // the State Funeral of Queen Elizabeth II on Monday 19 September.
  2022: {
    moves: { spring: '2022-06-02' },
    extra: [
      { date: '2022-06-03', name: 'Platinum Jubilee bank holiday' },
      { date: '2022-09-19', name: 'State Funeral of Queen Elizabeth II' },
    ],
  },
  // Coronation of King Charles III.
  2023: { extra: [{ date: '2023-05-08', name: 'Bank holiday for the coronation of King Charles III' }] },
};

const DAY_MS = 86_400_000;

export function civil(year: number, month: number, day: number): CivilDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Days since 1970-01-01 of a civil date: the calendar works in whole days, not instants. */
export function dayNumber(date: CivilDate): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError('a civil date must be YYYY-MM-DD');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new RangeError('not a calendar date');
  }
  return ms / DAY_MS;
}

export function fromDayNumber(n: number): CivilDate {
  const d = new Date(n * DAY_MS);
  return civil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(n: number): number {
  // 1970-01-01 was a Thursday.
  return (((n + 4) % 7) + 7) % 7;
}

/** Easter Sunday (Gregorian), by the anonymous Gregorian computus (Meeus/Jones/Butcher). */
export function easterSunday(year: number): CivilDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return civil(year, month, day);
}

function firstMonday(year: number, month: number): number {
  const first = dayNumber(civil(year, month, 1));
  return first + ((8 - weekday(first)) % 7);
}

function lastMonday(year: number, month: number): number {
  const last = dayNumber(civil(year, month + 1, 1)) - 1;
  return last - ((weekday(last) + 6) % 7);
}

/** The next weekday on or after `n` that is not in `taken`. */
function substitute(n: number, taken: Set<number>): number {
  let d = n;
  while (weekday(d) === 0 || weekday(d) === 6 || taken.has(d)) d++;
  return d;
}

function computeYear(year: number): BankHoliday[] {
  const proclamation = PROCLAMATIONS[year] ?? {};
  const moves = proclamation.moves ?? {};
  const easter = dayNumber(easterSunday(year));
  const newYear = dayNumber(civil(year, 1, 1));
  const rules: Array<[RuleName, string, number]> = [
    ['new_year', "New Year's Day", substitute(newYear, new Set())],
    ['good_friday', 'Good Friday', easter - 2],
    ['easter_monday', 'Easter Monday', easter + 1],
    ['early_may', 'Early May bank holiday', firstMonday(year, 5)],
    ['spring', 'Spring bank holiday', lastMonday(year, 5)],
    ['summer', 'Summer bank holiday', lastMonday(year, 8)],
  ];
  // Christmas first, then Boxing Day on the next free weekday: when 25 Dec is a Saturday the holidays
  // are Monday 27 and Tuesday 28; when it is a Sunday, Boxing Day keeps Monday 26 and Christmas moves
  // to Tuesday 27.
  const christmasDay = dayNumber(civil(year, 12, 25));
  const boxingDay = christmasDay + 1;
  let christmas: number;
  let boxing: number;
  if (weekday(christmasDay) === 0) {
    boxing = boxingDay;
    christmas = substitute(christmasDay, new Set([boxing]));
  } else {
    christmas = substitute(christmasDay, new Set());
    boxing = substitute(boxingDay, new Set([christmas]));
  }
  rules.push(['christmas', 'Christmas Day', christmas], ['boxing_day', 'Boxing Day', boxing]);

  const holidays: BankHoliday[] = rules.map(([rule, name, n]) => ({
    date: moves[rule] ?? fromDayNumber(n),
    name,
  }));
  holidays.push(...(proclamation.extra ?? []));
  return holidays.sort((a, b) => a.date.localeCompare(b.date));
}

const byYear = new Map<number, { list: readonly BankHoliday[]; days: ReadonlySet<number> }>();
for (let y = SUPPORTED_YEARS.first; y <= SUPPORTED_YEARS.last; y++) {
  const list = Object.freeze(computeYear(y).map((h) => Object.freeze(h)));
  byYear.set(y, { list, days: new Set(list.map((h) => dayNumber(h.date))) });
}

function yearEntry(year: number) {
  const entry = byYear.get(year);
  if (!entry) throw new UnsupportedYearError(year);
  return entry;
}

/** The bank holidays of a supported year, in date order. */
export function bankHolidays(year: number): readonly BankHoliday[] {
  return yearEntry(year).list;
}

/** Whether a day (as a day number) is a bank holiday; throws UnsupportedYearError outside the range. */
export function isBankHolidayDay(n: number): boolean {
  const year = new Date(n * DAY_MS).getUTCFullYear();
  return yearEntry(year).days.has(n);
}
