import t from 'tap';
import { hostileRun } from './run.js';

/**
 * Hostile inputs (issue 11, item 3; docs/security.md, "Hostile inputs"). `npm test` runs the quick
 * subset; `npm run test:hostile` the full set (HOSTILE_FULL=1). HOSTILE_SEED (and HOSTILE_PATH, from a
 * failure's report) replays a run; HOSTILE_REQUESTS overrides the size; HOSTILE_KEEP_GOING=1 reports
 * every failing request instead of stopping at the first.
 */
const full = process.env.HOSTILE_FULL === '1';

t.test(full ? 'hostile inputs: the full set' : 'hostile inputs: the quick subset', (t) =>
  hostileRun(t, {
    requests: full ? 10_000 : 1_000,
    batch: 8,
    idleConnections: 300,
    slowLanes: 4,
    heapGrowthMb: full ? 40 : 30,
    // RSS keeps what the allocator has not returned yet: seen from -20 to +120 MB over a full run.
    rssGrowthMb: 200,
  }),
);
