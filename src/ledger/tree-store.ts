import type { Queryable } from '../store/db.js';
import { type NodeGetter, type NodeKey, neededNodes } from './merkle.js';

/** Fetches the given perfect subtrees in one query; a missing one means the tree table is damaged. */
export async function fetchNodes(q: Queryable, keys: readonly NodeKey[]): Promise<NodeGetter> {
  const found = new Map<string, Buffer>();
  if (keys.length > 0) {
    const rows = await q.query<{ level: number; idx: number; hash: string }>(
      `SELECT t.level, t.idx, t.hash FROM ledger_tree t
         JOIN jsonb_to_recordset($1::jsonb) AS k(level smallint, idx bigint)
           ON t.level = k.level AND t.idx = k.idx`,
      [JSON.stringify(keys)],
    );
    for (const r of rows) found.set(`${r.level}:${r.idx}`, Buffer.from(r.hash, 'hex'));
  }
  return (level, idx) => {
    const h = found.get(`${level}:${idx}`);
    if (!h) throw new Error(`ledger tree node ${level}/${idx} is missing`);
    return h;
  };
}

/** Plans a proof, reads the O(log n) stored nodes it needs, then computes it. */
export async function withStoredNodes<T>(q: Queryable, run: (get: NodeGetter) => T): Promise<T> {
  const get = await fetchNodes(q, neededNodes(run));
  return run(get);
}
