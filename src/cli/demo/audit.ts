import { createPublicKey, verify } from 'node:crypto';
import { AUDITOR, CHILD_NHS } from './cast.js';
import { expect } from './client.js';
import type { Demo } from './journey.js';

interface CheckpointReply {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  keyId: string;
  signature: string;
}

const counted = (actions: string[]): string => {
  const counts = new Map<string, number>();
  for (const a of actions) counts.set(a, (counts.get(a) ?? 0) + 1);
  return [...counts].map(([a, n]) => `${a} ×${n}`).join(', ');
};

/**
 * The data protection officer's questions (contract section 11): who saw this child's data and why,
 * and was the record altered? The checkpoint is checked as any outside verifier would.
 */
export async function auditJourney(demo: Demo): Promise<void> {
  const { run, as, who } = demo;
  run.heading('The auditor: who saw this child’s data, and is the ledger intact?');
  const flushed = await demo.flushLedger();
  run.note(`the ledger has sequenced ${flushed.treeSize} entries and signed a checkpoint`);

  await run.step(
    `${who(AUDITOR)} GET /v1/audit`,
    [200],
    () => as(AUDITOR, 'GET', '/v1/audit?limit=500'),
    (r) => {
      const entries = (r.body as { entries: Array<{ action: string }> }).entries;
      expect(entries.length > 0, 'the audit trail is empty');
      return `${entries.length} entries: ${counted(entries.map((e) => e.action))}`;
    },
  );
  await run.step(
    `${who(AUDITOR)} GET /v1/audit/subject-report (the child)`,
    [200],
    () => as(AUDITOR, 'GET', `/v1/audit/subject-report?nhsNumber=${CHILD_NHS}`),
    (r) => {
      const report = r.body as { count: number; entries: Array<{ action: string }> };
      const actions = report.entries.map((e) => e.action);
      for (const action of ['concern.submitted', 'concern.decided', 'flag.searched', 'disclosure.viewed']) {
        expect(actions.includes(action), `the subject report lacks ${action}`);
      }
      return `${report.count} entries: ${counted(actions)}`;
    },
  );
  await run.step(
    `${who(AUDITOR)} GET /v1/audit/verify`,
    [200],
    () => as(AUDITOR, 'GET', '/v1/audit/verify'),
    (r) => {
      const v = r.body as { ok: boolean; entries: number; firstBadSeq?: number; reason?: string };
      expect(v.ok === true, `verify is not ok (first bad seq ${v.firstBadSeq}: ${v.reason})`);
      return `ok: ${v.ok} over ${v.entries} entries (hash chain, Merkle tree, checkpoint signatures)`;
    },
  );
  const checkpoint = (
    await run.step(
      `${who(AUDITOR)} GET /v1/audit/checkpoint`,
      [200],
      () => as(AUDITOR, 'GET', '/v1/audit/checkpoint'),
      (r) => {
        const cp = r.body as CheckpointReply;
        return `tree size ${cp.treeSize}, root ${cp.rootHash.slice(0, 16)}…, signed ${cp.timestamp}`;
      },
    )
  ).body as CheckpointReply;
  await run.step(
    'GET /v1/audit/keys, no certificate; the checkpoint checked with it',
    [200],
    () => demo.anonymous('GET', '/v1/audit/keys'),
    (r) => {
      const key = (r.body as Array<{ keyId: string; publicKeyPem: string }>).find(
        (k) => k.keyId === checkpoint.keyId,
      );
      expect(key !== undefined, `no published key ${checkpoint.keyId}`);
      // The signed text of contract section 11, rebuilt here as any outside verifier would.
      const text = `sgw-checkpoint\n${demo.gatewayId}\n${checkpoint.treeSize}\n${checkpoint.rootHash}\n${checkpoint.timestamp}\n`;
      const valid = verify(
        null,
        Buffer.from(text, 'utf8'),
        createPublicKey(key?.publicKeyPem ?? ''),
        Buffer.from(checkpoint.signature, 'base64'),
      );
      expect(valid, 'the checkpoint signature does not verify');
      return `signature valid (Ed25519 key ${checkpoint.keyId.slice(0, 16)}…)`;
    },
  );
}
