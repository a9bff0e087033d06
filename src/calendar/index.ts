export {
  type BankHoliday,
  bankHolidays,
  type CivilDate,
  easterSunday,
  PROCLAMATIONS,
  SUPPORTED_YEARS,
  UnsupportedYearError,
} from './bank-holidays.js';
export { validityBound } from './validity.js';
export {
  acknowledgeBy,
  addWorkingDays,
  endOfLondonDay,
  isWorkingDay,
  londonDate,
  londonOffsetMs,
  respondBy,
  startOfLondonDay,
  type Urgency,
  type Within,
} from './working-days.js';
