import {
  type CivilDate,
  civil,
  dayNumber,
  fromDayNumber,
  isBankHolidayDay,
  weekday,
} from './bank-holidays.js';

/**
 * England and Wales working days (not Saturday, Sunday or a bank holiday) and the deadlines built on
 * them. Days are civil dates in Europe/London; instants are UTC Dates. Intl's tz database is enough for
 * the one zone we need, so no time-zone library.
 */

export type Urgency = 'standard' | 'immediate';
export type Within = { workingDays: number } | { hours: number };

const HOUR_MS = 3_600_000;

const londonParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function checkInstant(instant: Date): void {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) throw new RangeError('invalid date');
}

function wallClock(instant: Date): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of londonParts.formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    y: parts.year ?? 0,
    mo: parts.month ?? 0,
    d: parts.day ?? 0,
    h: parts.hour ?? 0,
    mi: parts.minute ?? 0,
    s: parts.second ?? 0,
  };
}

/** The civil date in England at an instant. */
export function londonDate(instant: Date): CivilDate {
  checkInstant(instant);
  const w = wallClock(instant);
  return civil(w.y, w.mo, w.d);
}

/** London's offset from UTC in milliseconds at an instant (0 in GMT, 3,600,000 in BST). */
export function londonOffsetMs(instant: Date): number {
  checkInstant(instant);
  const w = wallClock(instant);
  const asUtc = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** 00:00:00 Europe/London on a civil date, as a UTC instant. */
export function startOfLondonDay(date: CivilDate): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  dayNumber(date);
  const naive = Date.UTC(y, mo - 1, d, 0, 0, 0);
  // Clocks change at 01:00 UTC, so the offset at 00:00 UTC is the one in force at local midnight.
  return new Date(naive - londonOffsetMs(new Date(naive)));
}

/** 23:59:59 Europe/London on a civil date, as a UTC instant. */
export function endOfLondonDay(date: CivilDate): Date {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  dayNumber(date);
  const naive = Date.UTC(y, mo - 1, d, 23, 59, 59);
  // Clocks change at 01:00 UTC, so the offset at 23:59:59 UTC of the same date is the offset that applies
  // at 23:59:59 local time (22:59:59 UTC in BST).
  return new Date(naive - londonOffsetMs(new Date(naive)));
}

function toDay(date: CivilDate | Date): number {
  return dayNumber(date instanceof Date ? londonDate(date) : date);
}

function isWorkingDayNumber(n: number): boolean {
  const wd = weekday(n);
  return wd !== 0 && wd !== 6 && !isBankHolidayDay(n);
}

/**
 * Whether a day is an England and Wales working day. A Date is taken as the civil day in London at that
 * instant. Throws UnsupportedYearError for a year whose bank holidays are not known.
 */
export function isWorkingDay(date: CivilDate | Date): boolean {
  return isWorkingDayNumber(toDay(date));
}

/**
 * The `n`th working day after `date` (before it when `n` is negative); `date` itself need not be a
 * working day. `n = 0` returns `date` unchanged.
 */
export function addWorkingDays(date: CivilDate | Date, n: number): CivilDate {
  if (!Number.isSafeInteger(n)) throw new RangeError('n must be an integer');
  let day = toDay(date);
  const step = n < 0 ? -1 : 1;
  for (let left = Math.abs(n); left > 0; ) {
    day += step;
    if (isWorkingDayNumber(day)) left--;
  }
  return fromDayNumber(day);
}

/**
 * When a concern must be decided (contract section 5): `standard` is the end (23:59:59 London) of the
 * first working day after the day of receipt; `immediate` is one hour after receipt.
 */
export function acknowledgeBy(receivedAt: Date, urgency: Urgency): Date {
  checkInstant(receivedAt);
  if (urgency === 'immediate') return new Date(receivedAt.getTime() + HOUR_MS);
  return endOfLondonDay(addWorkingDays(receivedAt, 1));
}

/**
 * When an information request must be answered: `workingDays` is the end (23:59:59 London) of the Nth
 * working day after the day of receipt; `hours` is plain elapsed time, round the clock, since urgent
 * answers do not wait for office hours.
 */
export function respondBy(from: Date, within: Within): Date {
  checkInstant(from);
  if ('hours' in within) {
    if (!(Number.isFinite(within.hours) && within.hours > 0)) throw new RangeError('hours must be positive');
    return new Date(from.getTime() + within.hours * HOUR_MS);
  }
  if (!(Number.isSafeInteger(within.workingDays) && within.workingDays > 0)) {
    throw new RangeError('workingDays must be a positive integer');
  }
  return endOfLondonDay(addWorkingDays(from, within.workingDays));
}
