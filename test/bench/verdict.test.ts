import t from 'tap';
import type { Summary } from '../../scripts/bench/stats.js';
import { latencyCheck, ratio, rssCheck, TARGETS, throughputCheck } from '../../scripts/bench/verdict.js';

const summary = (over: Partial<Summary>): Summary => ({
  ok: 100,
  errors: 0,
  seconds: 1,
  rps: 100,
  p50: 5,
  p99: 20,
  max: 30,
  ...over,
});

t.test('ratio', async (t) => {
  t.equal(ratio(50, 200), 0.25);
  t.ok(Number.isNaN(ratio(50, 0)), 'no baseline: no ratio');
  t.ok(Number.isNaN(ratio(50, Number.NaN)));
});

t.test('throughput: at least half the plain INSERT rate', async (t) => {
  t.equal(TARGETS.ledgeredToInsert, 0.5);
  t.equal(throughputCheck('flag search', summary({ rps: 500 }), 1000).verdict, 'PASS', 'exactly half holds');
  t.equal(throughputCheck('flag search', summary({ rps: 499 }), 1000).verdict, 'MISS');
  const c = throughputCheck('flag search', summary({ rps: 800 }), 1000);
  t.equal(c.measured, 0.8);
  t.match(c.what, /flag search/);
  t.equal(throughputCheck('x', summary({ rps: 800 }), 0).verdict, 'MISS', 'no baseline cannot pass');
});

t.test('latency: p99 under 50 ms at the fixed rate', async (t) => {
  t.equal(latencyCheck('concern submit', summary({ p99: 49.9 }), 200).verdict, 'PASS');
  t.equal(latencyCheck('concern submit', summary({ p99: 50 }), 200).verdict, 'MISS', '50 is not under 50');
  t.equal(latencyCheck('x', summary({ p99: Number.NaN }), 200).verdict, 'MISS', 'nothing answered');
  t.match(latencyCheck('x', summary({}), 200).what, /200 req\/s/);
});

t.test('a server answering well below the rate asked: the note says the requests queued', async (t) => {
  const slow = latencyCheck('flag search', summary({ rps: 120, p99: 900 }), 200);
  t.match(slow, { verdict: 'MISS', note: /answered 120 of the 200 req\/s asked: requests queued/ });
  t.notOk('note' in latencyCheck('x', summary({ rps: 195, p99: 20 }), 200), 'within 5 % of the rate');
});

t.test('failed requests turn a passing figure into a MISS, and say so', async (t) => {
  const c = latencyCheck('request create', summary({ p99: 10, errors: 3 }), 200);
  t.equal(c.verdict, 'MISS');
  t.match(c.note, /3 request/);
  t.equal(throughputCheck('x', summary({ rps: 900, errors: 1 }), 1000).verdict, 'MISS');
  t.notOk('note' in throughputCheck('x', summary({ rps: 900 }), 1000), 'no note without errors');
});

t.test('RSS: under 250 MiB', async (t) => {
  t.equal(rssCheck('gateway', 249.9).verdict, 'PASS');
  t.equal(rssCheck('gateway', 250).verdict, 'MISS');
});
