import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config, LogLevel } from '../../config/index.js';
import { type RunningGateway, startGateway } from '../../main.js';
import { dropWebhookQueue } from '../../notify/index.js';
import { addAgency, certPaths, initCa, mintToken } from '../../registry/index.js';
import { type CliIo, parseOptions } from '../io.js';
import { auditJourney } from './audit.js';
import { AGENCIES, type AgencyKey, type Practitioner, SOCIAL_WORKER } from './cast.js';
import { type Client, expect, httpsCall, list, StepRunner } from './client.js';
import { concernJourney } from './concern.js';
import { householdCheckJourney } from './household-check.js';
import type { Demo } from './journey.js';
import { s47Journey } from './s47.js';

/**
 * `sgw demo`: the gateway's three journeys end to end (a GP's concern, a police officer's household
 * check, a social worker's s47 enquiry) and the auditor's questions, through a throwaway gateway, over
 * real HTTPS with real certificates and tokens, exactly as the agencies' systems would call it.
 * Everything lives in a temporary folder (its own CA, agencies, embedded PGlite) that is removed at the
 * end, so the operator's certificates, ledger and data are never touched. Only synthetic data.
 */

export const DEMO_USAGE =
  'demo [--keep]                       the three journeys end to end through a throwaway gateway';

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

/** The calls of the journeys, as each agency's system makes them, against the running demo gateway. */
function demoOf(gateway: RunningGateway, certsDir: string, gatewayId: string, run: StepRunner): Demo {
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
        audience: gatewayId,
      });
      tokens.set(who, token);
    }
    return token;
  };
  return {
    run,
    as: (who, method, urlPath, body) =>
      httpsCall(`${gateway.url}${urlPath}`, clientOf(who.agency), method, tokenOf(who), body),
    anonymous: (method, urlPath) => httpsCall(`${gateway.url}${urlPath}`, { ca }, method),
    who: (w) => `${w.label}@${AGENCIES[w.agency].id}`,
    gatewayId,
    flushLedger: () => gateway.ledger.flush(),
  };
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

  // Its own queue prefix on a shared Redis: a running gateway's webhook jobs are not the demo worker's to
  // take (it would not know their agencies); the prefix is removed from Redis at the end.
  const gatewayId = `demo-${path.basename(workspace).slice(-6).toLowerCase()}`;
  const run = new StepRunner(io);
  try {
    mkdirSync(certsDir, { mode: 0o700 });
    mkdirSync(dataDir, { mode: 0o700 });
    io.stdout(
      'sgw demo: the three journeys end to end, over HTTPS, through a throwaway gateway (synthetic data)',
    );
    io.stdout(`  workspace  ${workspace}${keep ? ' (kept: --keep)' : ' (removed at the end)'}`);

    run.current = 'creating the CA and the demo agencies';
    initCa(certsDir, { hostname: 'localhost' });
    for (const a of Object.values(AGENCIES)) addAgency(certsDir, { id: a.id, name: a.name, kind: a.kind });
    io.stdout('  CA         new CA, server certificate for localhost and 127.0.0.1');
    io.stdout(
      `  agencies   ${Object.values(AGENCIES)
        .map((a) => `${a.id} (${a.kind})`)
        .join(', ')}: a client certificate and an ES256 token key each`,
    );

    run.current = 'starting the gateway';
    const demoConfig: Config = {
      ...config,
      port: 0,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir,
      certsDir,
      logLevel: demoLogLevel(config.logLevel),
      gatewayId,
      metrics: undefined,
    };
    gateway = await startGateway(demoConfig);
    io.stdout(
      `  gateway    ${gateway.url} · embedded PGlite · policies ${config.policiesDir} · Redis ${withoutPassword(config.redisUrl)}`,
    );
    const demo = demoOf(gateway, certsDir, demoConfig.gatewayId, run);

    run.heading('Readiness and the directory');
    await run.step(
      'GET /health/ready, no certificate',
      [200, 503],
      () => demo.anonymous('GET', '/health/ready'),
      (r) => {
        const checks = (r.body as { checks?: Record<string, string> }).checks ?? {};
        expect(checks.database === 'up', 'the database is not up');
        const text = Object.entries(checks)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        return checks.redis === 'up' ? text : `${text} (without Redis it serves; events wait in the outbox)`;
      },
    );
    await run.step(
      `${demo.who(SOCIAL_WORKER)} GET /v1/agencies (client certificate + token)`,
      [200],
      () => demo.as(SOCIAL_WORKER, 'GET', '/v1/agencies'),
      (r) => {
        const agencies = r.body as Array<{ id: string }>;
        return `${agencies.length} agencies: ${list(agencies.map((a) => a.id))}`;
      },
    );

    await concernJourney(demo);
    await householdCheckJourney(demo);
    await s47Journey(demo);
    await auditJourney(demo);

    io.stdout('');
    io.stdout(`sgw demo: all ${run.steps} steps answered as expected.`);
    return 0;
  } catch (err) {
    io.stderr(`sgw demo: failed at ${run.current}: ${(err as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await gateway?.close();
      if (gateway) await dropWebhookQueue(config.redisUrl, gatewayId);
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
