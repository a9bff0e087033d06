import type { Ledger } from '../../ledger/index.js';
import type { Db } from '../../store/index.js';
import { markOverdue, type OverdueMark } from '../mark-overdue.js';

const REQUESTS: OverdueMark = {
  sql: `UPDATE info_requests SET overdue_notified_at = $1
         WHERE status = 'awaiting_response' AND respond_by < $1 AND overdue_notified_at IS NULL
         RETURNING id, from_agency, to_agency, respond_by AS due`,
  event: 'request.overdue',
  idKey: 'requestId',
  dueKey: 'respondBy',
};

/** Marks requests past respondBy with no answer; `request.overdue` to both agencies, once. */
export function sweepOverdueRequests(db: Db, ledger: Ledger, now = new Date()): Promise<number> {
  return markOverdue(db, ledger, REQUESTS, now);
}
