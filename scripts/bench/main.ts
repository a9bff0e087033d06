/**
 * `npm run bench`: the gateway's five journeys over keep-alive HTTPS with real client certificates and
 * tokens, against baselines measured in the same run (bare Fastify over the same HTTPS, plain INSERT
 * transactions on the same PostgreSQL), the targets checked, a two-process scale-out, and the
 * results written as JSON. Everything it starts or creates is removed at the end, on a failure or on
 * Ctrl-C. `npm run bench -- --help` lists the options.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPostgres } from '../../src/store/postgres.js';
import { type BenchOptions, parseBenchArgs, USAGE, UsageError } from './args.js';
import { measureCeiling, measureInserts } from './baselines.js';
import { ensureBuilt } from './build.js';
import { Cleanup } from './cleanup.js';
import { type Caller, GatewayClient } from './client.js';
import { idleCpuShare } from './cpu.js';
import { sizes, startGatewayProcess } from './gateway.js';
import { type Journey, journeys } from './journeys.js';
import { ledgerChecks, ledgerEntries, waitForBackgroundWork } from './ledger-check.js';
import { closedLoopWithCpu, openLoopWithCpu } from './load.js';
import { describeMachine, loadAverage } from './machine.js';
import { freePort } from './processes.js';
import { type BenchResult, formatReport, type JourneyResult, writeResults } from './report.js';
import { measureScaleOut } from './scale-out.js';
import { smokeTest } from './smoke.js';
import { type Check, latencyCheck, ratio, rssCheck, throughputCheck } from './verdict.js';
import { createWorkspace, leftoverKeys, type Workspace } from './workspace.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (line: string) => console.log(line);
const began = performance.now();
/** A step under way, with the seconds since the bench began (where a slow run spends its time). */
const progress = (line: string) =>
  log(`${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s  ${line}`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function postgresVersion(ws: Workspace): Promise<string> {
  const db = openPostgres(ws.databaseUrl, { max: 1 });
  try {
    const [row] = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return `PostgreSQL ${row?.v ?? 'unknown'}`;
  } finally {
    await db.close();
  }
}

async function run(
  opts: BenchOptions,
  ws: Workspace,
  cleanup: Cleanup,
  startedAt: Date,
): Promise<{ result: BenchResult; file: string }> {
  const { flags, settleMs } = sizes(opts);
  const machine = describeMachine(await postgresVersion(ws));
  log(
    `sgw bench${opts.quick ? ' --quick' : ''}: ${machine.cpu}, ${machine.cores} cores, ${machine.memTotalGiB.toFixed(1)} GiB, Node ${machine.node}, ${machine.postgres}; load average ${machine.loadAverageAtStart.join(' ')} at start`,
  );
  log(
    `  closed loop: ${opts.concurrency} in flight, ${opts.warmupSeconds} s warm-up + ${opts.closedSeconds} s; open loop: ${opts.rate} req/s for ${opts.openSeconds} s`,
  );

  progress('Fastify ceiling (bare Fastify, same HTTPS and client certificates)');
  const ceiling = await measureCeiling(ws, opts, root, await freePort(), cleanup);

  const gatewayA = await startGatewayProcess('gateway A', ws, opts, root, await freePort(), cleanup);
  const pidsA = () => [gatewayA.pid];
  progress(`gateway A started (pid ${gatewayA.pid}, ${gatewayA.origin}, gateway id ${ws.gatewayId})`);
  progress('plain INSERT transactions on the same PostgreSQL (pool of 10, as the gateway)');
  const insertStart = await measureInserts(ws, opts);

  const clientA = new GatewayClient(gatewayA.origin, ws.tls, opts.concurrency, ws.certsDir, ws.gatewayId);
  cleanup.add({ name: 'closing the client of gateway A', run: () => clientA.close() });
  let caller: Caller = clientA;
  const set = journeys(() => caller);
  progress(`preparing: ${flags} child protection plan flags`);
  await set.publishFlags(flags);
  await smokeTest(set, clientA);

  const measured: Array<Omit<JourneyResult, 'ratioToInsert'>> = [];
  const measure = async (journey: Journey, beforeOpen?: () => Promise<void>) => {
    progress(`${journey.name}`);
    const closed = await closedLoopWithCpu(journey.op, opts, pidsA);
    await waitForBackgroundWork(ws.databaseUrl, 30_000);
    await pause(settleMs);
    await beforeOpen?.();
    await waitForBackgroundWork(ws.databaseUrl, 30_000);
    const open = await openLoopWithCpu(journey.op, { rate: opts.rate, seconds: opts.openSeconds }, pidsA);
    await waitForBackgroundWork(ws.databaseUrl, 30_000);
    await pause(settleMs);
    measured.push({
      key: journey.key,
      name: journey.name,
      closed,
      open,
      ratioToCeiling: ratio(closed.rps, ceiling.closed.rps),
    });
    return closed;
  };
  await measure(set.flagSearch);
  await measure(set.concernSubmit);
  const created = await measure(set.requestCreate);
  // Release takes each request once: enough for the closed loop at the rate creation reached, then for
  // the open loop's fixed count.
  const openCount = Math.ceil(opts.rate * opts.openSeconds) + 10;
  await set.topUpRequests(
    Math.ceil(created.rps * (opts.warmupSeconds + opts.closedSeconds) * 1.2) + openCount,
  );
  await measure(set.responseRelease, () => set.topUpRequests(openCount));
  await measure(set.ledgeredRead);
  const gatewayIdleCpu = await idleCpuShare(pidsA, settleMs * 2);
  const gatewayPeakRssMiB = gatewayA.peakRssMiB();

  const scaleOut = opts.scaleOut
    ? await measureScaleOut({
        ws,
        opts,
        root,
        cleanup,
        gatewayA,
        clientA,
        journey: set.flagSearch,
        route: (c) => {
          caller = c;
        },
        settleMs,
        progress,
      })
    : undefined;

  progress('ledger: waiting for the sequencer, then counting the entries of every journey');
  const ledger = await ledgerEntries(ws.databaseUrl, 30_000);
  const names = Object.fromEntries(measured.map((j) => [j.key, j.name]));
  // The machine drifts over a run (other work comes and goes): the baseline again at the end, and the
  // ratios against the mean of both.
  progress('plain INSERT transactions again, for the drift over the run');
  const insertEnd = await measureInserts(ws, opts);
  const insertRps = (insertStart.rps + insertEnd.rps) / 2;
  const results: JourneyResult[] = measured.map((j) => ({
    ...j,
    ratioToInsert: ratio(j.closed.rps, insertRps),
  }));

  const checks: Check[] = [];
  for (const j of results) {
    checks.push(throughputCheck(j.name, j.closed, insertRps), latencyCheck(j.name, j.open, opts.rate));
  }
  const peaks = [gatewayPeakRssMiB, ...(scaleOut?.peakRssMiB ?? [])].filter(
    (m): m is number => m !== undefined && Number.isFinite(m),
  );
  if (peaks.length > 0) checks.push(rssCheck('gateway process', Math.max(...peaks)));
  checks.push(...ledgerChecks(names, set.answered, ledger.entries));

  const { help: _help, ...options } = opts;
  const result: BenchResult = {
    format: 'sgw-bench/1',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    baselines: { ceiling, insert: insertStart, insertEnd, insertRps },
    journeys: results,
    gatewayPeakRssMiB,
    gatewayIdleCpu,
    scaleOut,
    ledger: { ...ledger, answered: set.answered },
    checks,
  };
  const file = writeResults(result, path.resolve(root, opts.outDir), startedAt);
  return { result, file };
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  ensureBuilt(root);
  const cleanup = new Cleanup();
  cleanup.installHandlers();
  let ws: Workspace | undefined;
  try {
    const startedAt = new Date();
    ws = await createWorkspace(cleanup);
    const { result, file } = await run(opts, ws, cleanup, startedAt);
    for (const line of formatReport(result)) log(line);
    log('');
    log(`results written to ${path.relative(process.cwd(), file) || file}`);
    // A missed target is a finding the report states, not a failure of the run.
    return 0;
  } catch (err) {
    if (!cleanup.interrupted) console.error(`bench: failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await cleanup.runAll();
    if (ws) {
      const left = await leftoverKeys(ws.gatewayId).catch(() => 0);
      if (left > 0) console.error(`bench: ${left} Redis key(s) of ${ws.gatewayId} are still there`);
    }
  }
}

process.exitCode = await main(process.argv.slice(2));
