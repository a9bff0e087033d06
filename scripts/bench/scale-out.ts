import type { BenchOptions } from './args.js';
import type { Cleanup } from './cleanup.js';
import { type Caller, GatewayClient, RoundRobin } from './client.js';
import { startGatewayProcess } from './gateway.js';
import type { Journey } from './journeys.js';
import { closedLoop, closedLoopWithCpu } from './load.js';
import type { Child } from './processes.js';
import { freePort } from './processes.js';
import type { ScaleOutResult } from './report.js';
import { ratio } from './verdict.js';
import type { Workspace } from './workspace.js';

export interface ScaleOutContext {
  ws: Workspace;
  opts: BenchOptions;
  root: string;
  cleanup: Cleanup;
  gatewayA: Child;
  clientA: GatewayClient;
  journey: Journey;
  /** Points the journey's requests at a gateway, or at several in turn. */
  route: (caller: Caller) => void;
  settleMs: number;
  progress: (line: string) => void;
}

/**
 * A second gateway process on the same PostgreSQL and Redis (and certificates, policies, gateway id),
 * then the same closed loop against the first alone and round-robin over both, as the simplest load
 * balancer would spread it: what the second process adds.
 */
export async function measureScaleOut(c: ScaleOutContext): Promise<ScaleOutResult> {
  const { opts, gatewayA, clientA, journey } = c;
  const gatewayB = await startGatewayProcess('gateway B', c.ws, opts, c.root, await freePort(), c.cleanup);
  const clientB = new GatewayClient(
    gatewayB.origin,
    c.ws.tls,
    opts.concurrency,
    c.ws.certsDir,
    c.ws.gatewayId,
  );
  c.cleanup.add({ name: 'closing the client of gateway B', run: () => clientB.close() });
  c.progress(
    `scale-out: gateway B started (pid ${gatewayB.pid}); ${journey.name} on A alone, then round-robin A+B`,
  );
  // B is cold where A has served every journey: warm it alone first, unmeasured, so that the
  // comparison is of two warm processes against one.
  c.route(clientB);
  await closedLoop(journey.op, { ...opts, closedSeconds: opts.warmupSeconds * 2 });
  c.route(clientA);
  const one = await closedLoopWithCpu(journey.op, opts, () => [gatewayA.pid]);
  await new Promise((r) => setTimeout(r, c.settleMs));
  c.route(new RoundRobin([clientA, clientB]));
  const two = await closedLoopWithCpu(journey.op, opts, () => [gatewayA.pid, gatewayB.pid]);
  c.route(clientA);
  return {
    journey: journey.name,
    one,
    two,
    ratio: ratio(two.rps, one.rps),
    peakRssMiB: [gatewayA.peakRssMiB() ?? Number.NaN, gatewayB.peakRssMiB() ?? Number.NaN],
  };
}
