import type { Queryable } from '../../store/index.js';

export interface InboxItem {
  id: string;
  kind: 'concern' | 'request' | 'event';
  ref: string;
  type: string;
  receivedAt: string;
  dueBy?: string;
  ackedAt?: string;
}

interface ItemRow extends Record<string, unknown> {
  seq: number;
  id: string;
  kind: InboxItem['kind'];
  ref: string;
  type: string;
  received_at: string;
  due_by: string | null;
  acked_at: string | null;
}

const toItem = (r: ItemRow): InboxItem => ({
  id: r.id,
  kind: r.kind,
  ref: r.ref,
  type: r.type,
  receivedAt: r.received_at,
  ...(r.due_by ? { dueBy: r.due_by } : {}),
  ...(r.acked_at ? { ackedAt: r.acked_at } : {}),
});

/** One page of an agency's items, oldest first, after the item numbered `afterSeq`. */
export async function listInbox(
  q: Queryable,
  f: { agency: string; openOnly: boolean; afterSeq: number; limit: number },
): Promise<{ items: InboxItem[]; lastSeq: number | undefined; more: boolean }> {
  const rows = await q.query<ItemRow>(
    `SELECT seq, id, kind, ref, type, received_at, due_by, acked_at FROM inbox_items
      WHERE agency_id = $1 AND seq > $2 AND ($3::boolean IS FALSE OR acked_at IS NULL)
      ORDER BY seq LIMIT $4`,
    [f.agency, f.afterSeq, f.openOnly, f.limit + 1],
  );
  const page = rows.slice(0, f.limit);
  return { items: page.map(toItem), lastSeq: page.at(-1)?.seq, more: rows.length > f.limit };
}

/** Acknowledges an item of the agency's once; undefined when the agency has no such item. */
export async function ackInbox(
  tx: Queryable,
  agency: string,
  id: string,
  bySub: string,
): Promise<InboxItem | undefined> {
  const [row] = await tx.query<ItemRow>(
    `UPDATE inbox_items SET acked_at = coalesce(acked_at, date_trunc('milliseconds', clock_timestamp())),
            acked_by_sub = coalesce(acked_by_sub, $3)
      WHERE id = $1 AND agency_id = $2
      RETURNING seq, id, kind, ref, type, received_at, due_by, acked_at`,
    [id, agency, bySub],
  );
  return row ? toItem(row) : undefined;
}
