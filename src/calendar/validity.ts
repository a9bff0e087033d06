import { dayNumber } from './bank-holidays.js';
import { endOfLondonDay, startOfLondonDay } from './working-days.js';

const DATE_ONLY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/**
 * The instant a validity bound (a consent's or a flag's validFrom / validTo) stands for. A date is a day
 * in England: a start counts from 00:00:00 London, an end runs to the end of 23:59:59 London (the
 * instant after it, so that `validTo` is exclusive either way). A date-time with a zone is itself.
 * Undefined when the value names no real time (2026-02-30, or 2026-02-30T10:00Z, which Date.parse would
 * roll over into March).
 */
export function validityBound(value: string, bound: 'from' | 'to'): string | undefined {
  try {
    dayNumber(value.slice(0, 10));
    if (DATE_ONLY.test(value)) {
      const at =
        bound === 'from' ? startOfLondonDay(value) : new Date(endOfLondonDay(value).getTime() + 1000);
      return at.toISOString();
    }
  } catch {
    return undefined;
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
