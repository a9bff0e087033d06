import type { Ledger } from '../../ledger/index.js';
import type { Db } from '../../store/index.js';

interface DueRow extends Record<string, unknown> {
  id: string;
  from_agency: string;
  to_agency: string;
  respond_by: string;
}

/**
 * Marks requests past respondBy with no answer and queues `request.overdue` for both agencies, in one
 * transaction: the mark and the events commit together, so a crash neither loses nor repeats an event,
 * and several gateway processes sweeping at once notify each request once (the UPDATE's row lock
 * makes the second sweeper see the mark). Returns how many requests it marked.
 */
export async function sweepOverdueRequests(db: Db, ledger: Ledger, now = new Date()): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await tx.query<DueRow>(
      `UPDATE info_requests SET overdue_notified_at = $1
        WHERE status = 'awaiting_response' AND respond_by < $1 AND overdue_notified_at IS NULL
        RETURNING id, from_agency, to_agency, respond_by`,
      [now.toISOString()],
    );
    if (due.length === 0) return 0;
    const events = due.flatMap((r) =>
      [r.from_agency, r.to_agency].map((agency) => ({
        agency,
        type: 'request.overdue',
        data: { requestId: r.id, from: r.from_agency, to: r.to_agency, respondBy: r.respond_by },
        inbox: { kind: 'event' as const, ref: r.id },
      })),
    );
    await ledger.append(tx, { entries: [], events });
    return due.length;
  });
}
