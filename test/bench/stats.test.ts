import t from 'tap';
import { percentile, summarise } from '../../scripts/bench/stats.js';

t.test('percentile: nearest rank, a value that really occurred', async (t) => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(hundred, 0.5), 50);
  t.equal(percentile(hundred, 0.99), 99);
  t.equal(percentile(hundred, 1), 100);
  t.equal(percentile(hundred, 0), 1);
  t.equal(percentile([7], 0.99), 7);
  t.equal(percentile([1, 2, 3], 0.5), 2);
  // 10 values: the 99th percentile is the largest (rank ceil(9.9) = 10), never an interpolation.
  t.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 1000], 0.99), 1000);
  t.ok(Number.isNaN(percentile([], 0.5)));
});

t.test('summarise: sorts, counts and rates over the elapsed time', async (t) => {
  const s = summarise([30, 10, 20, 40], 2, 2000);
  t.same(s, { ok: 4, errors: 2, seconds: 2, rps: 2, p50: 20, p99: 40, max: 40 });
  const none = summarise([], 3, 1000);
  t.equal(none.ok, 0);
  t.equal(none.rps, 0);
  t.ok(Number.isNaN(none.p99));
  t.equal(summarise([1], 0, 0).rps, 0, 'no elapsed time: no rate rather than Infinity');
});
