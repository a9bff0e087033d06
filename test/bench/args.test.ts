import t from 'tap';
import { parseBenchArgs, UsageError } from '../../scripts/bench/args.js';

t.test('defaults: a full run', async (t) => {
  const o = parseBenchArgs([]);
  t.match(o, {
    quick: false,
    closedSeconds: 10,
    openSeconds: 15,
    warmupSeconds: 2,
    concurrency: 32,
    rate: 200,
    scaleOut: true,
    outDir: 'bench-results',
    profileDir: undefined,
    help: false,
  });
});

t.test('--quick shortens every measurement, and explicit values still win', async (t) => {
  const quick = parseBenchArgs(['--quick']);
  t.equal(quick.quick, true);
  t.ok(quick.closedSeconds < 10 && quick.openSeconds < 15 && quick.warmupSeconds < 2);
  t.equal(quick.rate, 200, 'the latency target is judged at the same rate');
  const both = parseBenchArgs(['--quick', '--seconds', '4', '--open-seconds=5']);
  t.equal(both.closedSeconds, 4);
  t.equal(both.openSeconds, 5);
});

t.test('every option is read', async (t) => {
  const o = parseBenchArgs([
    '--concurrency',
    '8',
    '--rate',
    '50',
    '--no-scale-out',
    '--out',
    '/tmp/x',
    '--profile',
    'prof',
    '--help',
  ]);
  t.match(o, { concurrency: 8, rate: 50, scaleOut: false, outDir: '/tmp/x', profileDir: 'prof', help: true });
});

t.test('bad usage is a UsageError that names the option', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--seconds', '0'], /--seconds/],
    [['--seconds', 'abc'], /--seconds/],
    [['--rate', '-5'], /--rate/],
    [['--concurrency', '100000'], /--concurrency/],
    [['--out', ' '], /--out/],
    [['--profile', ''], /--profile/],
    [['--fast'], /fast/],
    [['extra'], /extra/],
    [['--quick=yes'], /quick/],
  ];
  for (const [argv, message] of cases) {
    t.throws(() => parseBenchArgs(argv), { constructor: UsageError, message }, argv.join(' '));
  }
});
