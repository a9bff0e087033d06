import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpsRequest } from '../helpers/https.js';
import { freePort, until } from '../helpers/redis.js';

/**
 * Gateway processes as the operator runs them (`node dist/cli/main.js serve`), each a child process with
 * a port, a data folder and an environment of its own, all on one database and one Redis. The suite
 * kills them with SIGKILL and starts them again on the same port; a process that exits when no one
 * killed it is a crash, kept with the last lines it logged.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SGW = path.join(ROOT, 'dist', 'cli', 'main.js');

/** Lines of a process's log kept for the report: the last ones, and every error or worse. */
const TAIL = 40;

export interface LoggedError {
  gateway: number;
  msg: string;
  err?: string;
}

export interface GatewayProcess {
  index: number;
  url: string;
  /** Whether the process runs now. */
  alive(): boolean;
  start(): Promise<void>;
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL when it has not ended within the grace time. */
  stop(): Promise<void>;
}

export interface Cluster {
  gateways: GatewayProcess[];
  urls: string[];
  /** Exits nobody asked for, with what the process logged last. */
  crashes: Array<{ gateway: number; code: number | null; signal: string | null; tail: string[] }>;
  /** Log lines at level error or worse, their message and error type only. */
  errors: LoggedError[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  count: number;
  ca: string;
  /** The environment every process shares (database, Redis, certs, gateway id, webhook settings). */
  env: Record<string, string>;
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  });
}

/** A pino line's message and error type, nothing of the request: the report must hold no personal data. */
function loggedError(gateway: number, line: string): LoggedError | undefined {
  let parsed: { level?: number; msg?: string; err?: { type?: string; code?: string } };
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if ((parsed.level ?? 0) < 50) return undefined;
  const err = parsed.err ? [parsed.err.type, parsed.err.code].filter(Boolean).join(' ') : undefined;
  return { gateway, msg: parsed.msg ?? '', ...(err ? { err } : {}) };
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const crashes: Cluster['crashes'] = [];
  const errors: LoggedError[] = [];
  const dataDirs: string[] = [];
  const gateways: GatewayProcess[] = [];
  const expectedExit = new Set<ChildProcess>();
  for (let index = 0; index < opts.count; index++) {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sgw-faults-data-'));
    dataDirs.push(dataDir);
    const url = `https://127.0.0.1:${port}`;
    let child: ChildProcess | undefined;
    let tail: string[] = [];
    const ready = async () => {
      try {
        const r = await httpsRequest(`${url}/health/ready`, { ca: opts.ca });
        return r.status === 200;
      } catch {
        return false;
      }
    };
    const gw: GatewayProcess = {
      index,
      url,
      alive: () => child !== undefined && child.exitCode === null && child.signalCode === null,
      async start() {
        tail = [];
        const c = spawn(process.execPath, [SGW, 'serve'], {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            ...opts.env,
            PORT: String(port),
            HOST: '127.0.0.1',
            SGW_DATA_DIR: dataDir,
            SGW_POLICIES_DIR: path.join(ROOT, 'policies'),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child = c;
        const onLine = (line: string) => {
          tail.push(line);
          if (tail.length > TAIL) tail.shift();
          const e = loggedError(index, line);
          if (e) errors.push(e);
        };
        if (c.stdout) readLines(c.stdout, onLine);
        if (c.stderr) readLines(c.stderr, onLine);
        c.on('exit', (code, signal) => {
          if (child === c && !expectedExit.has(c))
            crashes.push({ gateway: index, code, signal, tail: [...tail] });
        });
        if (!(await until(async () => !gw.alive() || (await ready()), 60_000)) || !gw.alive()) {
          throw new Error(`gateway ${index} did not become ready:\n${tail.join('\n')}`);
        }
      },
      async kill() {
        const c = child;
        if (!c || !gw.alive()) return;
        expectedExit.add(c);
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGKILL');
        await exited;
      },
      async stop() {
        const c = child;
        if (!c || !gw.alive()) return;
        expectedExit.add(c);
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      },
    };
    gateways.push(gw);
  }
  const cluster: Cluster = {
    gateways,
    urls: gateways.map((g) => g.url),
    crashes,
    errors,
    async stop() {
      await Promise.all(gateways.map((g) => g.stop()));
      for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    },
  };
  try {
    // One at a time: the first runs the migrations, the second finds them done.
    for (const g of gateways) await g.start();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
