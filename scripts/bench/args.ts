import { parseArgs } from 'node:util';

/** What one run measures and for how long; `--quick` trades precision for a run under a minute. */
export interface BenchOptions {
  quick: boolean;
  /** Seconds of each closed-loop (saturation) measurement, after its warm-up. */
  closedSeconds: number;
  /** Seconds of each open-loop (fixed-rate) measurement. */
  openSeconds: number;
  /** Seconds of unmeasured load before each closed-loop measurement. */
  warmupSeconds: number;
  /** Requests in flight in the closed loop (and callers of the plain INSERT baseline). */
  concurrency: number;
  /** Requests a second of the open loop. */
  rate: number;
  /** Whether to start a second gateway process and measure what it adds. */
  scaleOut: boolean;
  /** Folder the JSON results go to. */
  outDir: string;
  /** When set, each gateway process writes a V8 CPU profile here (node --cpu-prof) as it stops. */
  profileDir: string | undefined;
  help: boolean;
}

export class UsageError extends Error {}

export const USAGE = `npm run bench [-- options]

  --quick               short measurements: the whole run in under a minute
  --seconds N           closed-loop seconds per measurement (default 10; quick 1.5)
  --open-seconds N      open-loop seconds per measurement at the fixed rate (default 15; quick 2)
  --concurrency N       requests in flight in the closed loop (default 32)
  --rate N              requests a second of the open loop (default 200)
  --no-scale-out        skip the two-process run
  --out DIR             where the JSON results go (default bench-results)
  --profile DIR         each gateway process writes a CPU profile (.cpuprofile) into DIR as it stops
  --help                this text`;

function positive(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`--${name} must be a number above 0 and at most ${max}`);
  }
  return value;
}

/** Reads the command line; a wrong option or value throws a UsageError that says which. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        seconds: { type: 'string' },
        'open-seconds': { type: 'string' },
        concurrency: { type: 'string' },
        rate: { type: 'string' },
        'no-scale-out': { type: 'boolean' },
        out: { type: 'string' },
        profile: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const str = (name: string) => values[name] as string | undefined;
  const quick = values.quick === true;
  const concurrency = Math.round(positive('concurrency', str('concurrency'), 32, 1000));
  const out = str('out');
  const profile = str('profile');
  for (const [name, value] of [
    ['out', out],
    ['profile', profile],
  ] as const) {
    if (value !== undefined && value.trim() === '') throw new UsageError(`--${name} must name a folder`);
  }
  return {
    quick,
    closedSeconds: positive('seconds', str('seconds'), quick ? 1.5 : 10, 3600),
    openSeconds: positive('open-seconds', str('open-seconds'), quick ? 2 : 15, 3600),
    warmupSeconds: quick ? 0.3 : 2,
    concurrency,
    rate: positive('rate', str('rate'), 200, 100_000),
    scaleOut: values['no-scale-out'] !== true,
    outDir: out ?? 'bench-results',
    profileDir: profile,
    help: values.help === true,
  };
}
