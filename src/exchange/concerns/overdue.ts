import type { Ledger } from '../../ledger/index.js';
import type { Db } from '../../store/index.js';

interface DueRow extends Record<string, unknown> {
  id: string;
  from_agency: string;
  to_agency: string;
  acknowledge_by: string;
}

/**
 * Marks concerns past acknowledgeBy with no decision and queues `concern.overdue` for the referrer and
 * the addressed CSC, in one transaction (as sweepOverdueRequests: a crash neither loses nor repeats an
 * event, and concurrent sweepers notify each concern once). Returns how many concerns it marked.
 */
export async function sweepOverdueConcerns(db: Db, ledger: Ledger, now = new Date()): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await tx.query<DueRow>(
      `UPDATE concerns SET overdue_notified_at = $1
        WHERE status = 'submitted' AND acknowledge_by < $1 AND overdue_notified_at IS NULL
        RETURNING id, from_agency, to_agency, acknowledge_by`,
      [now.toISOString()],
    );
    if (due.length === 0) return 0;
    const events = due.flatMap((c) =>
      [c.from_agency, c.to_agency].map((agency) => ({
        agency,
        type: 'concern.overdue',
        data: { concernId: c.id, from: c.from_agency, to: c.to_agency, acknowledgeBy: c.acknowledge_by },
        inbox: { kind: 'event' as const, ref: c.id },
      })),
    );
    await ledger.append(tx, { entries: [], events });
    return due.length;
  });
}
