import type { Ledger } from '../ledger/index.js';
import type { Db } from '../store/index.js';

/** How one journey marks what is past its deadline. */
export interface OverdueMark {
  /**
   * Sets overdue_notified_at = $1 on the records past their deadline at $1 that are still open and not
   * yet marked, RETURNING id, from_agency, to_agency, due.
   */
  sql: string;
  /** The event both agencies get, and the data keys naming the record and its deadline. */
  event: string;
  idKey: string;
  dueKey: string;
}

interface DueRow extends Record<string, unknown> {
  id: string;
  from_agency: string;
  to_agency: string;
  due: string;
}

/**
 * Marks and notifies in one transaction: the mark and the events commit together, so a crash neither
 * loses nor repeats an event, and several gateway processes sweeping at once notify each record once
 * (the UPDATE's row lock makes the second sweeper see the mark). Returns how many records it marked.
 */
export async function markOverdue(db: Db, ledger: Ledger, mark: OverdueMark, now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await tx.query<DueRow>(mark.sql, [now.toISOString()]);
    if (due.length === 0) return 0;
    const events = due.flatMap((r) =>
      [r.from_agency, r.to_agency].map((agency) => ({
        agency,
        type: mark.event,
        data: { [mark.idKey]: r.id, from: r.from_agency, to: r.to_agency, [mark.dueKey]: r.due },
        inbox: { kind: 'event' as const, ref: r.id },
      })),
    );
    await ledger.append(tx, { entries: [], events });
    return due.length;
  });
}
