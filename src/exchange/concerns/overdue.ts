import type { Ledger } from '../../ledger/index.js';
import type { Db } from '../../store/index.js';
import { markOverdue, type OverdueMark } from '../mark-overdue.js';

const CONCERNS: OverdueMark = {
  sql: `UPDATE concerns SET overdue_notified_at = $1
         WHERE status = 'submitted' AND acknowledge_by < $1 AND overdue_notified_at IS NULL
         RETURNING id, from_agency, to_agency, acknowledge_by AS due`,
  event: 'concern.overdue',
  idKey: 'concernId',
  dueKey: 'acknowledgeBy',
};

/** Marks concerns past acknowledgeBy with no decision; `concern.overdue` to both agencies, once. */
export function sweepOverdueConcerns(db: Db, ledger: Ledger, now = new Date()): Promise<number> {
  return markOverdue(db, ledger, CONCERNS, now);
}
