import t from 'tap';
import { validityBound } from '../../src/calendar/index.js';

t.test(
  'a date is a day in England; a date-time is itself; a date that is not real is undefined',
  async (t) => {
    // Winter: London is UTC; summer: UTC+1.
    t.equal(validityBound('2026-01-15', 'from'), '2026-01-15T00:00:00.000Z');
    t.equal(validityBound('2026-01-15', 'to'), '2026-01-16T00:00:00.000Z', 'to the end of 23:59:59');
    t.equal(validityBound('2026-07-15', 'from'), '2026-07-14T23:00:00.000Z');
    t.equal(validityBound('2026-07-15', 'to'), '2026-07-15T23:00:00.000Z');
    t.equal(validityBound('2026-07-15T10:30:00+01:00', 'from'), '2026-07-15T09:30:00.000Z');
    t.equal(validityBound('2026-07-15T10:30Z', 'to'), '2026-07-15T10:30:00.000Z');
    t.equal(validityBound('2026-02-30', 'from'), undefined);
    t.equal(validityBound('2026-02-30T10:00Z', 'from'), undefined, 'not rolled over into March');
    t.equal(validityBound('2026-13-01T00:00Z', 'to'), undefined);
    t.equal(validityBound('2026-01-01T25:00Z', 'to'), undefined);
  },
);
