import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { plantedShapeIn } from './plant.js';

/**
 * What the run observes of the gateway from outside its requests: its log output, its memory and its
 * metrics.
 */

/** Reads the gateway's log lines as they are written, keeping counts and the lines that leak. */
export class LogScan {
  lines = 0;
  readonly byLevel = new Map<number, number>();
  readonly leaks: string[] = [];
  readonly unhandled: string[] = [];
  readonly stream: Writable;

  constructor() {
    this.stream = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line) this.read(line);
        cb();
      },
    });
  }

  private read(line: string): void {
    this.lines++;
    const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
    this.byLevel.set(level, (this.byLevel.get(level) ?? 0) + 1);
    const shape = plantedShapeIn(line);
    if (shape && this.leaks.length < 20) this.leaks.push(`${shape}: ${line.slice(0, 400)}`);
    if (/unhandled error/.test(line) && this.unhandled.length < 20) this.unhandled.push(line.slice(0, 600));
  }
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (opts?: { type: 'major' }) => void;

export interface Memory {
  heapUsedMb: number;
  /** Memory outside the JS heap that JS objects hold (Buffers, TLS): where a leak of bodies would show. */
  externalMb: number;
  rssMb: number;
}

/** This process's memory after full collections (the gateway runs in it). */
export async function settledMemory(): Promise<Memory> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const m = process.memoryUsage();
  return { heapUsedMb: m.heapUsed / 2 ** 20, externalMb: m.external / 2 ** 20, rssMb: m.rss / 2 ** 20 };
}

export interface SeriesCount {
  /** Series of the HTTP request counter. */
  httpSeries: number;
  /** Every series the endpoint exposes. */
  allSeries: number;
  routes: Set<string>;
  methods: Set<string>;
  statuses: Set<string>;
}

/** Counts the series a Prometheus text exposition holds and the label values of the HTTP counter. */
export function countSeries(text: string): SeriesCount {
  const out: SeriesCount = {
    httpSeries: 0,
    allSeries: 0,
    routes: new Set(),
    methods: new Set(),
    statuses: new Set(),
  };
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    out.allSeries++;
    if (!line.startsWith('sgw_http_requests_total{')) continue;
    out.httpSeries++;
    const label = (name: string) => new RegExp(`${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(line)?.[1] ?? '';
    out.routes.add(label('route'));
    out.methods.add(label('method'));
    out.statuses.add(label('status'));
  }
  return out;
}
