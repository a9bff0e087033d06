import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/db.js';
import { type AppendResult, appendRecord, type LedgerEntryInput, type OutboxEventInput } from './append.js';
import { type Checkpoint, checkpointSignatureValid, loadSigningKey, type SigningKey } from './checkpoint.js';
import { publicKeyFor } from './queries.js';
import {
  latestCheckpoint,
  lockSequencer,
  maybeCheckpoint,
  readHead,
  registerKey,
  sequenceBatch,
} from './sequencer.js';
import {
  computeSubjectRefs,
  loadSubjectKey,
  type SubjectIdentifiers,
  setSubjectKey,
  subjectHash,
} from './subject.js';

export interface LedgerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LedgerOptions {
  db: Db;
  certsDir: string;
  gatewayId: string;
  logger?: LedgerLogger;
  /** How often the sequencer looks at the queue. */
  intervalMs?: number;
  /** Minimum age of the last checkpoint before a new one is signed while entries arrive. */
  checkpointIntervalMs?: number;
  batchSize?: number;
}

export interface LedgerHealth {
  ok: boolean;
  treeSize?: number;
  reason?: string;
}

export interface Ledger {
  readonly db: Db;
  readonly gatewayId: string;
  readonly signingKey: SigningKey;
  /** appendRecord with this ledger's subject-hashing secret. */
  append(
    tx: Queryable,
    record: { entries: LedgerEntryInput[]; events?: OutboxEventInput[] },
  ): Promise<AppendResult>;
  /** The keyed hashes one can search the ledger by for this subject. */
  subjectRefs(subject: SubjectIdentifiers): string[];
  /**
   * HMAC-SHA-256 (hex) with the subject-hashing secret of a tagged, normalised identifier: for indexes
   * of other capabilities (the flag index) that must hold no plaintext identifier either.
   */
  keyedHash(normalised: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sequences everything queued before the call and signs a checkpoint of the result. */
  flush(): Promise<Checkpoint>;
  /**
   * Waits, for at most `maxWaitMs`, until every entry committed before the call is chained, running
   * sequencer rounds itself whenever the lock is free (never waiting on it). Returns the highest queue
   * id it waited for (0: nothing was queued), for `auditCut` to say what a read includes.
   */
  catchUp(maxWaitMs: number): Promise<number>;
  health(): Promise<LedgerHealth>;
}

const noopLogger: LedgerLogger = { info() {}, warn() {}, error() {} };

/** How often an audit read looks again while another sequencer holds the lock. */
const CATCH_UP_POLL_MS = 20;

/** Queued entries older than this mean no sequencer is running: the ledger is not healthy. */
const STALL_SECONDS = 30;

class ProbeRollback extends Error {}

/** Whether an entry could be queued now (permissions, triggers, disk): a write rolled back. */
async function canAppend(db: Db): Promise<boolean> {
  try {
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO ledger_queue (entry_id, body) VALUES ($1, '{}'::jsonb)", [randomUUID()]);
      throw new ProbeRollback();
    });
    return false;
  } catch (err) {
    return err instanceof ProbeRollback;
  }
}

export function createLedger(opts: LedgerOptions): Ledger {
  const { db, gatewayId } = opts;
  const logger = opts.logger ?? noopLogger;
  const intervalMs = opts.intervalMs ?? 150;
  const checkpointIntervalMs = opts.checkpointIntervalMs ?? 1000;
  const batchSize = opts.batchSize ?? 5000;
  const subjectKey = loadSubjectKey(opts.certsDir);
  setSubjectKey(subjectKey);
  const signingKey = loadSigningKey(opts.certsDir);

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let failing = false;

  /** One sequencer round: returns how many entries it chained (a full batch: more may be waiting). */
  const round = async (wait: boolean, forceCheckpoint: boolean): Promise<number> =>
    db.transaction(async (tx) => {
      if (!(await lockSequencer(tx, wait))) return 0;
      const moved = await sequenceBatch(tx, batchSize);
      await maybeCheckpoint(tx, signingKey, gatewayId, forceCheckpoint ? 0 : checkpointIntervalMs);
      return moved;
    });

  const tick = async () => {
    try {
      while (!stopped && (await round(false, false)) === batchSize) {}
      if (failing) logger.info({}, 'ledger sequencer recovered');
      failing = false;
    } catch (err) {
      if (!failing) logger.error({ err }, 'ledger sequencer round failed');
      failing = true;
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  };

  return {
    db,
    gatewayId,
    signingKey,
    append: (tx, record) => appendRecord(tx, record, () => subjectKey),
    subjectRefs: (subject) => computeSubjectRefs(subjectKey, subject)?.subjectRefs ?? [],
    keyedHash: (normalised) => subjectHash(subjectKey, normalised),
    async start() {
      if (!stopped) return;
      await db.transaction((tx) => registerKey(tx, signingKey));
      await round(true, true);
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    async flush() {
      const [target] = await db.query<{ max: number | null }>('SELECT max(id) AS max FROM ledger_queue');
      const upTo = target?.max ?? 0;
      for (;;) {
        await round(true, false);
        const [left] = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM ledger_queue WHERE id <= $1',
          [upTo],
        );
        if ((left?.n ?? 0) === 0) break;
      }
      await db.transaction(async (tx) => {
        await lockSequencer(tx, true);
        await maybeCheckpoint(tx, signingKey, gatewayId, 0);
      });
      const cp = await latestCheckpoint(db);
      if (!cp) throw new Error('no checkpoint after flush');
      return cp;
    },
    async catchUp(maxWaitMs) {
      const [target] = await db.query<{ max: number | null }>('SELECT max(id) AS max FROM ledger_queue');
      const upTo = target?.max ?? 0;
      const deadline = Date.now() + maxWaitMs;
      while (upTo > 0 && Date.now() < deadline) {
        const [left] = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM ledger_queue WHERE id <= $1',
          [upTo],
        );
        if ((left?.n ?? 0) === 0) break;
        // Another sequencer holds the lock (it is chaining them) or the round failed: look again shortly.
        const moved = await round(false, false).catch(() => 0);
        if (moved === 0) await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
      }
      return upTo;
    },
    async health() {
      try {
        // The checkpoint first: the head only grows, and every entry a checkpoint covers was committed
        // before it, so a head read after it is never behind it. Read the other way round, a
        // checkpoint signed between the two reads looked like one beyond the head (a false 503).
        const cp = await latestCheckpoint(db);
        const head = await readHead(db);
        if (!cp) return { ok: false, treeSize: head?.seq ?? 0, reason: 'no checkpoint' };
        if (cp.treeSize > (head?.seq ?? 0)) {
          return { ok: false, treeSize: head?.seq ?? 0, reason: 'checkpoint beyond the head' };
        }
        const publicKey = await publicKeyFor(db, cp.keyId, signingKey);
        const valid = publicKey !== undefined && checkpointSignatureValid(cp, gatewayId, publicKey);
        if (!valid) return { ok: false, treeSize: head?.seq ?? 0, reason: 'checkpoint signature invalid' };
        const [oldest] = await db.query<{ age: number | null }>(
          'SELECT extract(epoch FROM clock_timestamp() - min(at))::float8 AS age FROM ledger_queue',
        );
        if ((oldest?.age ?? 0) > STALL_SECONDS) {
          return { ok: false, treeSize: head?.seq ?? 0, reason: 'sequencer stalled' };
        }
        if (!(await canAppend(db))) return { ok: false, treeSize: head?.seq ?? 0, reason: 'cannot append' };
        return { ok: true, treeSize: head?.seq ?? 0 };
      } catch {
        return { ok: false, reason: 'ledger unreadable' };
      }
    },
  };
}
