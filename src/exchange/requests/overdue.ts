import type { Ledger } from '../../ledger/index.js';
import type { Db } from '../../store/index.js';

export interface OverdueSweepLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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

/** Sweeps every `intervalMs` until stopped; a failed sweep is logged and retried on the next tick. */
export function startOverdueSweep(opts: {
  db: Db;
  ledger: Ledger;
  logger: OverdueSweepLogger;
  intervalMs?: number;
}): { stop(): Promise<void> } {
  const intervalMs = opts.intervalMs ?? 15_000;
  let running: Promise<void> | undefined;
  let failing = false;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepOverdueRequests(opts.db, opts.ledger)
      .then((n) => {
        if (n > 0) opts.logger.info({ requests: n }, 'requests marked overdue');
        failing = false;
      })
      .catch((err) => {
        if (!failing) opts.logger.error({ err }, 'overdue sweep failed');
        failing = true;
      })
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
