import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildBundle, bundleFiles, type LoadResult } from './loader.js';
import type { Bundle, BundleError } from './types.js';

/** The part of a pino logger the store uses. */
export interface PolicyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What routes and services need: the bundle in force, and since when. */
export interface PolicySource {
  current(): Bundle;
  readonly loadedAt: Date;
}

export class PolicyBundleError extends Error {
  readonly errors: BundleError[];
  constructor(dir: string, errors: BundleError[]) {
    super(
      `the policy bundle in ${dir} is refused:\n${errors.map((e) => `  ${e.file}:${e.line}: ${e.message}`).join('\n')}`,
    );
    this.name = 'PolicyBundleError';
    this.errors = errors;
  }
}

export interface PolicyStoreOptions {
  logger: PolicyLogger;
  /** How often the folder is read (default 1000 ms). A change is loaded once it has held for one poll. */
  pollMs?: number;
}

async function snapshot(dir: string): Promise<{ files: Map<string, string>; fingerprint: string }> {
  const files = new Map<string, string>();
  const hash = createHash('sha256');
  for (const name of await bundleFiles(dir)) {
    const text = await readFile(path.join(dir, name), 'utf8');
    files.set(name, text);
    hash.update(`${name}\u0000${text.length}\u0000${text}\u0000`);
  }
  return { files, fingerprint: hash.digest('hex') };
}

/**
 * The bundle in force, reloaded when the folder changes. The folder is read every poll (a bundle is a
 * few dozen small files, and reading beats trusting mtimes and fs.watch across file systems); a change
 * is loaded after it has stayed the same for one poll, so an editor's multi-step save is read once,
 * within about two polls. A bundle that fails any check is refused whole: the old one stays in force
 * and the refusal is logged with every error's file and line.
 */
export class PolicyStore implements PolicySource {
  readonly dir: string;
  private bundle: Bundle;
  private loaded: Date;
  private applied: string;
  private pending: string | undefined;
  private busy = false;
  private readonly timer: NodeJS.Timeout;
  private readonly logger: PolicyLogger;

  private constructor(dir: string, bundle: Bundle, fingerprint: string, opts: PolicyStoreOptions) {
    this.dir = dir;
    this.bundle = bundle;
    this.loaded = new Date();
    this.applied = fingerprint;
    this.logger = opts.logger;
    this.timer = setInterval(() => void this.poll(), opts.pollMs ?? 1000);
    this.timer.unref();
  }

  /** Loads the bundle or throws PolicyBundleError: the gateway must not start on a refused bundle. */
  static async open(dir: string, opts: PolicyStoreOptions): Promise<PolicyStore> {
    let snap: Awaited<ReturnType<typeof snapshot>>;
    try {
      snap = await snapshot(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new PolicyBundleError(dir, [
        { file: dir, line: 0, message: `cannot read the policy folder (${code})` },
      ]);
    }
    const result = buildBundle(snap.files);
    if (!result.ok) throw new PolicyBundleError(dir, result.errors);
    const store = new PolicyStore(dir, result.bundle, snap.fingerprint, opts);
    opts.logger.info(
      { policyVersion: result.bundle.version, rules: result.bundle.rules.length },
      'policy bundle loaded',
    );
    return store;
  }

  current(): Bundle {
    return this.bundle;
  }

  get loadedAt(): Date {
    return this.loaded;
  }

  get version(): string {
    return this.bundle.version;
  }

  /** Reads the folder now and applies it when valid; the result says why when it is not. */
  async reload(): Promise<LoadResult> {
    let snap: Awaited<ReturnType<typeof snapshot>>;
    try {
      snap = await snapshot(this.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      const errors = [{ file: this.dir, line: 0, message: `cannot read the policy folder (${code})` }];
      this.logger.error(
        { errors, policyVersion: this.bundle.version },
        'policy reload refused; keeping the bundle in force',
      );
      return { ok: false, errors };
    }
    return this.apply(snap.files, snap.fingerprint);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private apply(files: Map<string, string>, fingerprint: string): LoadResult {
    this.applied = fingerprint;
    this.pending = undefined;
    const result = buildBundle(files);
    if (!result.ok) {
      this.logger.error(
        { errors: result.errors, policyVersion: this.bundle.version },
        'policy reload refused; keeping the bundle in force',
      );
      return result;
    }
    if (result.bundle.version !== this.bundle.version) {
      const previous = this.bundle.version;
      this.bundle = result.bundle;
      this.loaded = new Date();
      this.logger.info(
        {
          policyVersion: result.bundle.version,
          previousVersion: previous,
          rules: result.bundle.rules.length,
        },
        'policy bundle reloaded',
      );
    }
    return { ok: true, bundle: this.bundle };
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const snap = await snapshot(this.dir);
      if (snap.fingerprint === this.applied) {
        this.pending = undefined;
      } else if (snap.fingerprint !== this.pending) {
        this.pending = snap.fingerprint;
      } else {
        this.apply(snap.files, snap.fingerprint);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      if (this.pending !== code) {
        this.pending = code;
        this.logger.warn(
          { code, policyVersion: this.bundle.version },
          'policy folder unreadable; keeping the bundle in force',
        );
      }
    } finally {
      this.busy = false;
    }
  }
}
