import t from 'tap';
import { parseBenchArgs } from '../../scripts/bench/args.js';
import type { ClosedResult, WithCpu } from '../../scripts/bench/load.js';
import { type BenchResult, formatReport } from '../../scripts/bench/report.js';
import { latencyCheck, rssCheck, throughputCheck } from '../../scripts/bench/verdict.js';

const cpu = { machineBusy: 0.5, serverMsPerRequest: 1.25, clientMsPerRequest: 0.5 };
const closed = (rps: number, over: Partial<ClosedResult> = {}): WithCpu<ClosedResult> => ({
  ok: rps * 10,
  errors: 0,
  seconds: 10,
  rps,
  p50: 4,
  p99: 40,
  max: 60,
  exhausted: false,
  cpu,
  ...over,
});

/** A full run's options, as the report receives them (without --help). */
const { help: _help, ...defaults } = parseBenchArgs([]);

function result(): BenchResult {
  const search = closed(600);
  const release = closed(300, { exhausted: true, seconds: 4.2, errors: 2 });
  return {
    format: 'sgw-bench/1',
    startedAt: '2026-11-27T10:00:00.000Z',
    finishedAt: '2026-11-27T10:04:00.000Z',
    options: defaults,
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memTotalGiB: 23.5,
      loadAverageAtStart: [1, 2, 3],
      loadAverageAtEnd: [4, 5, 6],
      node: 'v20.20.2',
      postgres: 'PostgreSQL 15',
    },
    baselines: {
      ceiling: { closed: closed(8000), open: { ...closed(200), p99: 3 } },
      insert: closed(1000),
      insertEnd: closed(1400),
      insertRps: 1200,
    },
    journeys: [
      {
        key: 'flag_search',
        name: 'flag search',
        closed: search,
        open: closed(200),
        ratioToInsert: 0.6,
        ratioToCeiling: 0.08,
      },
      {
        key: 'response_release',
        name: 'response release',
        closed: release,
        open: closed(200),
        ratioToInsert: 0.3,
        ratioToCeiling: 0.0375,
      },
    ],
    gatewayPeakRssMiB: 190.4,
    gatewayIdleCpu: 0.03,
    scaleOut: {
      journey: 'flag search',
      one: closed(600),
      two: closed(900),
      ratio: 1.5,
      peakRssMiB: [190, 150],
    },
    ledger: { drained: false, entries: { 'flag.searched': 6001 }, answered: { flag_search: 6000 } },
    checks: [
      throughputCheck('flag search', search, 1000),
      throughputCheck('response release', release, 1000),
      latencyCheck('flag search', { ...search, p99: 70 }, 200),
      rssCheck('gateway process', 190.4),
    ],
  };
}

t.test('the report shows every measurement, ratio and verdict', async (t) => {
  const text = formatReport(result()).join('\n');
  for (const name of ['Fastify ceiling', 'plain INSERT tx', 'flag search', 'response release']) {
    t.match(text, name);
  }
  t.match(text, /flag search\s+600\s+4\.00\s+40\.0\s+0\.60\s+0\.08/, 'rate, p50, p99 and both ratios');
  t.match(text, /PASS\s+flag search throughput \/ INSERT tx\/s\s+0\.60\s+\(>= 0\.5\)/);
  t.match(text, /MISS\s+response release throughput.*2 request\(s\) failed/, 'a MISS says why');
  t.match(text, /MISS\s+flag search p99 at 200 req\/s \(ms\)\s+70\.0\s+\(< 50\)/);
  t.match(text, /PASS\s+gateway process peak RSS/);
  t.match(text, /ran out of prepared requests after 4\.2 s/);
  t.match(text, /two processes round-robin 900 req\/s: ×1\.50/);
  t.match(text, /1 2 3 at start, 4 5 6 at the end, on 2 cores/);
  t.match(text, /CPU while idle: 3% of a core/);
  t.match(text, /again at the end\s+1400/);
  t.match(text, /against 1200 tx\/s, the mean/);
  t.match(text, /sequencer had not chained every queued entry/);
});

t.test('a scale-out on busy cores says that there was no idle core to add', async (t) => {
  const r = result();
  t.notMatch(formatReport(r).join('\n'), /no idle core/, 'at 50 % busy there was one');
  const busy = { ...r.scaleOut!.one, cpu: { ...cpu, machineBusy: 0.97 } };
  const text = formatReport({ ...r, scaleOut: { ...r.scaleOut!, one: busy } }).join('\n');
  t.match(text, /already 97% busy with one process: the second had no idle core to add/);
});

t.test('without a scale-out run there is no scale-out line', async (t) => {
  const r = { ...result(), scaleOut: undefined };
  t.notMatch(formatReport(r).join('\n'), /scale-out/);
});
