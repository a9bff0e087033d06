import type { Config } from '../config/index.js';
import { exportLedger, proveEntry, verifyLedger } from '../ledger/index.js';
import { openStore } from '../store/index.js';
import { type CliIo, parseOptions, required, UsageError } from './io.js';
import { WITNESS_USAGE, witnessCommand } from './witness.js';

export const AUDIT_USAGE = `  audit verify                        recompute the chain, the tree and every checkpoint signature
  audit export [--from F] [--to T]    entries as JSON lines (F, T: a seq, or an RFC 3339 time)
  audit prove --seq N                 a self-contained receipt for entry N (scripts/verify-receipt.mjs)
${WITNESS_USAGE}`;

/**
 * `sgw audit verify|export|prove|witness`. verify prints its result as JSON and exits 1 when the ledger was
 * tampered with, naming the first bad seq on stderr.
 */
export async function auditCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const ctx = { certsDir: config.certsDir, gatewayId: config.gatewayId };
  const run = async (fn: (db: Awaited<ReturnType<typeof openStore>>) => Promise<number>) => {
    const db = await openStore(config);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  switch (sub) {
    case 'verify': {
      parseOptions(rest, {});
      return run(async (db) => {
        const result = await verifyLedger(db, ctx);
        io.stdout(JSON.stringify(result, null, 2));
        if (!result.ok) {
          io.stderr(`ledger NOT intact: first bad seq ${result.firstBadSeq}: ${result.reason}`);
          // The gateway id is part of the signed text: a wrong one makes every signature fail.
          if (/signature/.test(result.reason ?? '')) {
            io.stderr(`(checked as gateway "${ctx.gatewayId}": is SGW_GATEWAY_ID the gateway's own?)`);
          }
        }
        return result.ok ? 0 : 1;
      });
    }
    case 'export': {
      const { values } = parseOptions(rest, { from: { type: 'string' }, to: { type: 'string' } });
      for (const name of ['from', 'to'] as const) {
        const v = values[name];
        if (typeof v === 'string' && !/^[1-9][0-9]*$/.test(v) && Number.isNaN(Date.parse(v))) {
          throw new UsageError(`--${name} must be a seq or an RFC 3339 time`);
        }
      }
      return run(async (db) => {
        const range: { from?: string; to?: string } = {};
        if (typeof values.from === 'string') range.from = values.from;
        if (typeof values.to === 'string') range.to = values.to;
        await exportLedger(db, range, (line) => io.stdout(line));
        return 0;
      });
    }
    case 'prove': {
      const { values } = parseOptions(rest, { seq: { type: 'string' } });
      const seq = Number(required(values, 'seq'));
      if (!Number.isInteger(seq) || seq < 1) throw new UsageError('--seq must be a positive integer');
      return run(async (db) => {
        const receipt = await proveEntry(db, seq, ctx);
        if (!receipt) {
          io.stderr(`no ledger entry ${seq}`);
          return 1;
        }
        io.stdout(JSON.stringify(receipt, null, 2));
        return 0;
      });
    }
    case 'witness':
      return witnessCommand(rest, config, io);
    default:
      throw new UsageError(`audit needs verify, export, prove or witness\n${AUDIT_USAGE}`);
  }
}
