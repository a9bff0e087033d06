import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Agent, request } from 'undici';
import type { Cleanup } from './cleanup.js';

/** The peak resident set (VmHWM) in KiB from the text of /proc/<pid>/status, or undefined. */
export function parseVmHwm(status: string): number | undefined {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

export interface Child {
  name: string;
  pid: number;
  origin: string;
  /** The highest VmHWM read so far, in MiB (read it while the process is alive). */
  peakRssMiB(): number | undefined;
  stop(): Promise<void>;
}

function readPeakKiB(pid: number): number | undefined {
  try {
    return parseVmHwm(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Polls `url` until it answers 200, the child exits, or `ms` pass. */
async function waitReady(child: ChildProcess, url: string, tls: TlsFiles, ms: number, tail: () => string) {
  const dispatcher = new Agent({ connect: { ca: tls.ca, cert: tls.cert, key: tls.key } });
  const end = Date.now() + ms;
  try {
    while (Date.now() < end) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`exited (${child.exitCode ?? child.signalCode}) before it was ready: ${tail()}`);
      }
      try {
        const res = await request(url, { dispatcher });
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`not ready within ${ms / 1000} s: ${tail()}`);
  } finally {
    await dispatcher.close();
  }
}

export interface TlsFiles {
  ca: string;
  cert?: string;
  key?: string;
}

export interface SpawnOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  port: number;
  readyPath: string;
  tls: TlsFiles;
  cleanup: Cleanup;
}

/**
 * Starts a server as a child process and waits until `readyPath` answers 200. Its stderr's last lines
 * are kept to explain a failed start. Stopping asks with SIGTERM (a gateway drains and closes its pools),
 * then kills after 10 s; the cleanup registry stops it too if the bench ends first.
 */
export async function spawnServer(opts: SpawnOptions): Promise<Child> {
  const child = spawn(process.execPath, opts.args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${opts.name}: could not start`);
  const origin = `https://127.0.0.1:${opts.port}`;
  let peakKiB = 0;
  const sample = () => {
    const kib = readPeakKiB(pid);
    if (kib !== undefined) peakKiB = Math.max(peakKiB, kib);
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      sample();
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    return stopping;
  };
  opts.cleanup.add({
    name: `stopping ${opts.name}`,
    run: stop,
    atExit: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  });
  await waitReady(child, `${origin}${opts.readyPath}`, opts.tls, 60_000, () => stderr.trim() || 'no output');
  return {
    name: opts.name,
    pid,
    origin,
    peakRssMiB() {
      sample();
      return peakKiB > 0 ? peakKiB / 1024 : undefined;
    },
    stop,
  };
}

/** A port free on loopback now (the OS picks it), for a server the bench is about to start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
