import { X509Certificate } from 'node:crypto';
import { readFileSync, type Stats, statSync } from 'node:fs';
import { certPaths } from './paths.js';
import { type AgencyRecord, type JwtKeyRecord, readRegistry } from './store.js';

export interface RegistryLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Snapshot {
  agencies: Map<string, AgencyRecord>;
  ca: X509Certificate;
  caPem: string;
}

function stamp(file: string): string {
  let s: Stats;
  try {
    s = statSync(file);
  } catch {
    return 'missing';
  }
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

/**
 * The running gateway's view of the registry files. It polls their stat once a second (fs.watch misses
 * atomic renames on some file systems) and swaps in a new snapshot, so that `sgw agency …` and
 * `sgw cert revoke` reach every gateway process within seconds, without a restart. A file that cannot
 * be read keeps the previous snapshot: a broken edit must not open the door or lock everyone out.
 */
export class RegistryView {
  private snapshot: Snapshot;
  private stamps: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly paths: ReturnType<typeof certPaths>;
  /** Bumped on every reload, so per-connection caches know when to re-check. */
  generation = 0;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly certsDir: string,
    private readonly logger?: RegistryLogger,
  ) {
    this.paths = certPaths(certsDir);
    this.stamps = this.currentStamps();
    this.snapshot = this.read();
  }

  private currentStamps(): string {
    return [this.paths.registry, this.paths.caCert, this.paths.serverCert, this.paths.serverKey]
      .map(stamp)
      .join('|');
  }

  private read(): Snapshot {
    const registry = readRegistry(this.certsDir);
    const caPem = readFileSync(this.paths.caCert, 'utf8');
    return {
      agencies: new Map(registry.agencies.map((a) => [a.id, a])),
      ca: new X509Certificate(caPem),
      caPem,
    };
  }

  /** Re-reads the files when they changed; returns whether a new snapshot is in force. */
  refresh(): boolean {
    const now = this.currentStamps();
    if (now === this.stamps) return false;
    try {
      this.snapshot = this.read();
      this.stamps = now;
      this.generation++;
      this.logger?.info({ agencies: this.snapshot.agencies.size }, 'registry reloaded');
      for (const l of this.listeners) l();
      return true;
    } catch (err) {
      this.logger?.error({ err }, 'registry reload failed; keeping the previous registry');
      return false;
    }
  }

  /** Called after a reload (e.g. to swap the TLS server certificate). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get ca(): X509Certificate {
    return this.snapshot.ca;
  }

  get caPem(): string {
    return this.snapshot.caPem;
  }

  agency(id: string): AgencyRecord | undefined {
    return this.snapshot.agencies.get(id);
  }

  activeAgency(id: string): AgencyRecord | undefined {
    const a = this.snapshot.agencies.get(id);
    return a?.status === 'active' ? a : undefined;
  }

  activeAgencies(): AgencyRecord[] {
    return [...this.snapshot.agencies.values()].filter((a) => a.status === 'active');
  }

  jwtKey(agencyId: string, kid: string): JwtKeyRecord | undefined {
    return this.snapshot.agencies.get(agencyId)?.jwtKeys.find((k) => k.kid === kid);
  }
}
