import { createPublicKey, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Config, LogLevel } from '../config/index.js';
import { type RunningGateway, startGateway } from '../main.js';
import { addAgency, certPaths, initCa, mintToken } from '../registry/index.js';
import { type CliIo, parseOptions } from './io.js';

/**
 * `sgw demo`: the s47 journey of contract section 6 through a throwaway gateway, over real HTTPS with
 * real certificates and tokens, exactly as the agencies' systems would call it. Everything lives in a
 * temporary folder (its own CA, agencies, embedded PGlite) that is removed at the end, so the operator's
 * certificates, ledger and data are never touched. Only synthetic data: 943 476 5919 is the NHS number
 * published for testing.
 */

export const DEMO_USAGE =
  'demo [--keep]                       the s47 journey end to end through a throwaway gateway';

const AGENCIES = {
  csc: { id: 'demo-csc', name: 'Demo Children’s Services', kind: 'children_social_care' },
  gp: { id: 'demo-gp', name: 'Demo Riverside Surgery', kind: 'health' },
  police: { id: 'demo-police', name: 'Demo County Police', kind: 'police' },
  probation: { id: 'demo-probation', name: 'Demo Regional Probation', kind: 'probation' },
} as const;

type AgencyKey = keyof typeof AGENCIES;

interface Practitioner {
  agency: AgencyKey;
  role: string;
  sub: string;
  name: string;
  /** How the line names them. */
  label: string;
}

const SOCIAL_WORKER: Practitioner = {
  agency: 'csc',
  role: 'social_worker',
  sub: 'sw-demo-1',
  name: 'Demo Social Worker',
  label: 'social worker',
};
const POLICE_OFFICER: Practitioner = {
  agency: 'police',
  role: 'police_officer',
  sub: 'pc-demo-1',
  name: 'Demo Police Officer',
  label: 'police officer',
};
const PROBATION_OFFICER: Practitioner = {
  agency: 'probation',
  role: 'probation_officer',
  sub: 'po-demo-1',
  name: 'Demo Probation Officer',
  label: 'probation officer',
};
const GP: Practitioner = { agency: 'gp', role: 'gp', sub: 'gp-demo-1', name: 'Demo GP', label: 'GP' };
const AUDITOR: Practitioner = {
  agency: 'csc',
  role: 'auditor',
  sub: 'dpo-demo-1',
  name: 'Demo Data Protection Officer',
  label: 'auditor',
};

/** Synthetic people: the NHS number is the one NHS England publishes for testing. */
const CHILD = { type: 'child', nhsNumber: '943 476 5919', name: { given: 'Sam', family: 'Example' } };
const ADULT = { type: 'adult', pncId: '2001/0012345X', name: { given: 'Alex', family: 'Example' } };
const CASE_REFERENCE = 'DEMO-CASE-0001';
const JUSTIFICATION = 'Strategy discussion held today; s47 enquiry opened (demo data).';
const DECLINE_REASON = 'The child is not registered with this practice.';

interface Reply {
  status: number;
  body: unknown;
}

interface Problem {
  code?: string;
  detail?: string;
}

interface Refusal {
  category: string;
  code: string;
  ruleId?: string;
}

interface Created {
  id: string;
  granted: string[];
  refused: Refusal[];
}

interface Answered {
  released: Record<string, string[]>;
  withheldByPolicy: Record<string, string[]>;
}

interface RequestView {
  status: string;
  response?: { data: Record<string, unknown> };
}

interface CheckpointReply {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  keyId: string;
  signature: string;
}

/** A step whose reply was not the one the journey expects. */
class StepFailure extends Error {}

interface Client {
  ca: string;
  cert?: string;
  key?: string;
}

/** One HTTPS call, as an agency's system makes it: its client certificate, and a practitioner token. */
function httpsCall(
  url: string,
  client: Client,
  method: string,
  token?: string,
  body?: unknown,
): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        headers,
        ca: client.ca,
        ...(client.cert && client.key ? { cert: client.cert, key: client.key } : {}),
        agent: false,
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no reply within 20 s')));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.join(', '));

const fieldList = (fields: Record<string, string[]>): string =>
  list(Object.entries(fields).map(([category, paths]) => `${category} (${[...paths].sort().join(', ')})`));

function problemText(reply: Reply): string {
  const p = (reply.body ?? {}) as Problem;
  return p.code ? `${p.code}${p.detail ? `: ${p.detail}` : ''}` : 'no problem details';
}

/** A Redis URL can carry a password: never print it. */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(configured)';
  }
}

/** The gateway's own log lines would drown the journey: errors only, unless debug or trace was asked. */
function demoLogLevel(level: LogLevel): LogLevel {
  if (level === 'debug' || level === 'trace' || level === 'silent' || level === 'fatal') return level;
  return 'error';
}

export async function demoCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const { values } = parseOptions(args, { keep: { type: 'boolean' } });
  const keep = values.keep === true;

  const workspace = mkdtempSync(path.join(os.tmpdir(), 'sgw-demo-'));
  const certsDir = path.join(workspace, 'certs');
  const dataDir = path.join(workspace, 'data');
  let gateway: RunningGateway | undefined;
  let removed = false;
  const removeWorkspace = () => {
    if (keep || removed) return;
    removed = true;
    rmSync(workspace, { recursive: true, force: true });
  };
  // Interrupted half-way: the temporary folder still goes (the process is ending anyway).
  const onSignal = (signal: NodeJS.Signals) => {
    removeWorkspace();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let stepNo = 0;
  let current = 'setting up';
  try {
    mkdirSync(certsDir, { mode: 0o700 });
    mkdirSync(dataDir, { mode: 0o700 });
    io.stdout('sgw demo: a s47 enquiry end to end, over HTTPS, through a throwaway gateway (synthetic data)');
    io.stdout(`  workspace  ${workspace}${keep ? ' (kept: --keep)' : ' (removed at the end)'}`);

    current = 'creating the CA and the demo agencies';
    initCa(certsDir, { hostname: 'localhost' });
    for (const a of Object.values(AGENCIES)) addAgency(certsDir, { id: a.id, name: a.name, kind: a.kind });
    io.stdout('  CA         new CA, server certificate for localhost and 127.0.0.1');
    io.stdout(
      `  agencies   ${Object.values(AGENCIES)
        .map((a) => `${a.id} (${a.kind})`)
        .join(', ')}: a client certificate and an ES256 token key each`,
    );

    current = 'starting the gateway';
    const demoConfig: Config = {
      ...config,
      port: 0,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir,
      certsDir,
      logLevel: demoLogLevel(config.logLevel),
      // Its own queue prefix on a shared Redis: a running gateway's worker must not take the demo's
      // webhook jobs (nor the demo's worker a running gateway's), and no metrics listener.
      gatewayId: `demo-${path.basename(workspace).slice(-6).toLowerCase()}`,
      metrics: undefined,
    };
    gateway = await startGateway(demoConfig);
    const url = gateway.url;
    io.stdout(
      `  gateway    ${url} · embedded PGlite · policies ${config.policiesDir} · Redis ${withoutPassword(config.redisUrl)}`,
    );
    io.stdout('');

    const p = certPaths(certsDir);
    const ca = readFileSync(p.caCert, 'utf8');
    const clientOf = (agency: AgencyKey): Client => ({
      ca,
      cert: readFileSync(p.clientCert(AGENCIES[agency].id), 'utf8'),
      key: readFileSync(p.clientKey(AGENCIES[agency].id), 'utf8'),
    });
    const tokens = new Map<Practitioner, string>();
    const tokenOf = (who: Practitioner): string => {
      let token = tokens.get(who);
      if (!token) {
        token = mintToken(certsDir, {
          agency: AGENCIES[who.agency].id,
          sub: who.sub,
          role: who.role,
          name: who.name,
          ttlSeconds: 600,
          audience: demoConfig.gatewayId,
        });
        tokens.set(who, token);
      }
      return token;
    };
    const as = (who: Practitioner, method: string, urlPath: string, body?: unknown) =>
      httpsCall(`${url}${urlPath}`, clientOf(who.agency), method, tokenOf(who), body);
    const who = (w: Practitioner) => `${w.label}@${AGENCIES[w.agency].id}`;

    /** Runs one step: its reply must have an expected status, and `describe` must find what it shows. */
    const step = async (
      title: string,
      expected: number[],
      call: () => Promise<Reply>,
      describe: (reply: Reply) => string,
    ): Promise<Reply> => {
      stepNo += 1;
      current = `step ${stepNo} (${title})`;
      const reply = await call();
      if (!expected.includes(reply.status)) {
        throw new StepFailure(
          `expected ${expected.join(' or ')}, got ${reply.status} (${problemText(reply)})`,
        );
      }
      io.stdout(`${String(stepNo).padStart(2)}. ${reply.status}  ${title} → ${describe(reply)}`);
      return reply;
    };
    const expect = (ok: boolean, what: string) => {
      if (!ok) throw new StepFailure(what);
    };

    await step(
      'GET /health/ready, no certificate',
      [200, 503],
      () => httpsCall(`${url}/health/ready`, { ca }, 'GET'),
      (r) => {
        const checks = (r.body as { checks?: Record<string, string> }).checks ?? {};
        expect(checks.database === 'up', 'the database is not up');
        const text = Object.entries(checks)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        return checks.redis === 'up' ? text : `${text} (without Redis it serves, counting in this process)`;
      },
    );

    await step(
      `${who(SOCIAL_WORKER)} GET /v1/agencies (client certificate + token)`,
      [200],
      () => as(SOCIAL_WORKER, 'GET', '/v1/agencies'),
      (r) => {
        const agencies = r.body as Array<{ id: string }>;
        return `${agencies.length} agencies: ${list(agencies.map((a) => a.id))}`;
      },
    );

    const ask = async (to: AgencyKey, about: string, subject: unknown, categories: string[]) => {
      const reply = await step(
        `${who(SOCIAL_WORKER)} POST /v1/requests to ${AGENCIES[to].id}, ${about}: ${categories.join(', ')}`,
        [201],
        () =>
          as(SOCIAL_WORKER, 'POST', '/v1/requests', {
            to: AGENCIES[to].id,
            subject,
            purpose: 's47_enquiry',
            categories,
            justification: JUSTIFICATION,
            caseReference: CASE_REFERENCE,
          }),
        (r) => {
          const c = r.body as Created;
          const refused = c.refused.map(
            (x) => `${x.category} (${x.code}${x.ruleId ? ` by ${x.ruleId}` : ''})`,
          );
          return `granted: ${list(c.granted)}; refused: ${list(refused)}`;
        },
      );
      return reply.body as Created;
    };
    // The police ask includes intelligence, which the policy refuses outside MAPPA.
    const police = await ask('police', 'child', CHILD, ['incidents', 'intelligence']);
    expect(
      police.refused.some((r) => r.category === 'intelligence'),
      'intelligence was not refused to the social worker',
    );
    const gp = await ask('gp', 'child', CHILD, ['registration', 'attendances']);
    const probation = await ask('probation', 'adult in the household', ADULT, [
      'mappa',
      'risk_of_serious_harm',
    ]);

    const answer = (holder: Practitioner, requestId: string, data: Record<string, unknown>) =>
      step(
        `${who(holder)} POST /v1/requests/:id/response`,
        [200],
        () => as(holder, 'POST', `/v1/requests/${requestId}/response`, { data }),
        (r) => {
          const a = r.body as Answered;
          return `released: ${fieldList(a.released)}; withheld by policy: ${fieldList(a.withheldByPolicy)}`;
        },
      );
    await answer(POLICE_OFFICER, police.id, {
      incidents: {
        items: [
          {
            date: '2025-10-01',
            type: 'domestic',
            role: 'victim',
            summary: 'Call-out to the home address (demo).',
            reference: 'DEMO-INC-1',
          },
        ],
      },
    });
    // Probation includes nextReview, which the s47 policy does not share with children's social care.
    const probationAnswer = await answer(PROBATION_OFFICER, probation.id, {
      mappa: { category: 1, level: 2, leadAgency: 'probation', nextReview: '2027-01-10' },
      risk_of_serious_harm: { level: 'high', riskTo: ['children'], summary: 'Risk to children in the home.' },
    });
    expect(
      ((probationAnswer.body as Answered).withheldByPolicy.mappa ?? []).includes('nextReview'),
      'mappa.nextReview was not withheld',
    );
    await step(
      `${who(GP)} POST /v1/requests/:id/decline`,
      [200],
      () => as(GP, 'POST', `/v1/requests/${gp.id}/decline`, { reason: DECLINE_REASON }),
      (r) => `${(r.body as { status: string }).status}: "${DECLINE_REASON}"`,
    );

    const read = (holder: AgencyKey, requestId: string) =>
      step(
        `${who(SOCIAL_WORKER)} GET /v1/requests/:id (to ${AGENCIES[holder].id})`,
        [200],
        () => as(SOCIAL_WORKER, 'GET', `/v1/requests/${requestId}`),
        (r) => {
          const v = r.body as RequestView;
          if (!v.response) return `${v.status}, no data`;
          const shown = Object.entries(v.response.data).map(([category, payload]) => {
            const items = (payload as { items?: unknown[] }).items;
            return Array.isArray(items)
              ? `${category} (${items.length} item${items.length === 1 ? '' : 's'})`
              : `${category} {${Object.keys(payload as object).join(', ')}}`;
          });
          return `${v.status}: ${list(shown)}`;
        },
      );
    await read('police', police.id);
    const probationRead = await read('probation', probation.id);
    const mappa = (probationRead.body as RequestView).response?.data.mappa as
      | Record<string, unknown>
      | undefined;
    expect(mappa !== undefined && !('nextReview' in mappa), 'the social worker saw mappa.nextReview');
    await read('gp', gp.id);

    current = 'waiting for the ledger to sequence its entries';
    const flushed = await gateway.ledger.flush();
    io.stdout(`    the ledger has sequenced ${flushed.treeSize} entries and signed a checkpoint`);

    await step(
      `${who(AUDITOR)} GET /v1/audit`,
      [200],
      () => as(AUDITOR, 'GET', '/v1/audit?limit=500'),
      (r) => {
        const entries = (r.body as { entries: Array<{ action: string }> }).entries;
        expect(entries.length > 0, 'the audit trail is empty');
        const counts = new Map<string, number>();
        for (const e of entries) counts.set(e.action, (counts.get(e.action) ?? 0) + 1);
        return `${entries.length} entries: ${[...counts].map(([a, n]) => `${a} ×${n}`).join(', ')}`;
      },
    );
    await step(
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
      await step(
        `${who(AUDITOR)} GET /v1/audit/checkpoint`,
        [200],
        () => as(AUDITOR, 'GET', '/v1/audit/checkpoint'),
        (r) => {
          const cp = r.body as CheckpointReply;
          return `tree size ${cp.treeSize}, root ${cp.rootHash.slice(0, 16)}…, signed ${cp.timestamp}`;
        },
      )
    ).body as CheckpointReply;
    await step(
      'GET /v1/audit/keys, no certificate; the checkpoint checked with it',
      [200],
      () => httpsCall(`${url}/v1/audit/keys`, { ca }, 'GET'),
      (r) => {
        const key = (r.body as Array<{ keyId: string; publicKeyPem: string }>).find(
          (k) => k.keyId === checkpoint.keyId,
        );
        expect(key !== undefined, `no published key ${checkpoint.keyId}`);
        // The signed text of contract section 11, rebuilt here as any outside verifier would.
        const text = `sgw-checkpoint\n${demoConfig.gatewayId}\n${checkpoint.treeSize}\n${checkpoint.rootHash}\n${checkpoint.timestamp}\n`;
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

    io.stdout('');
    io.stdout(`sgw demo: all ${stepNo} steps answered as expected.`);
    return 0;
  } catch (err) {
    io.stderr(`sgw demo: failed at ${current}: ${(err as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await gateway?.close();
    } catch (err) {
      io.stderr(`sgw demo: closing the gateway: ${(err as Error).message}`);
    }
    if (keep) {
      io.stdout(
        [
          `Kept ${workspace}. To explore it:`,
          `  unset DATABASE_URL; export SGW_CERTS_DIR=${certsDir} SGW_DATA_DIR=${dataDir}`,
          '  npm run -s sgw -- serve          # (with PORT=8444 if 8443 is taken)',
          '  TOKEN=$(npm run -s sgw -- token --agency demo-csc --sub sw-demo-1 --role social_worker)',
          `  curl --cacert ${certsDir}/ca.crt --cert ${certsDir}/agencies/demo-csc/client.crt \\`,
          `       --key ${certsDir}/agencies/demo-csc/client.key -H "authorization: Bearer $TOKEN" \\`,
          '       https://127.0.0.1:8443/v1/agencies',
        ].join('\n'),
      );
    } else {
      removeWorkspace();
    }
  }
}
