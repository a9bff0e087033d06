import { type Config, ConfigError, loadConfig } from '../config/index.js';
import { CaExistsError, RegistryInputError } from '../registry/index.js';
import { AUDIT_USAGE, auditCommand } from './audit.js';
import { DEMO_USAGE, demoCommand } from './demo/index.js';
import { type CliIo, processIo, UsageError } from './io.js';
import { runPolicyCommand } from './policy.js';
import { agencyCommand, CERT_USAGE, caCommand, certCommand, tokenCommand } from './registry.js';
import { serveCommand } from './serve.js';
import { WEBHOOK_USAGE, webhookCommand } from './webhook.js';

const USAGE = `usage: sgw <command>
  serve [--init]                      run the gateway (--init: create the CA first when there is none)
  ca init [--force] [--hostname H]    create the CA, server certificate, ledger key and subject secret
  agency add --id ID --name NAME --kind KIND [--webhook URL] [--jwt-public-key FILE]
  agency list | suspend --id ID | reactivate --id ID
  agency key add --id ID --jwt-public-key FILE | agency key remove --id ID --kid KID
${WEBHOOK_USAGE}
  ${CERT_USAGE}
  token --agency ID --sub SUB --role ROLE [--name N] [--ttl S]
  policy check [DIR] | test [DIR] | explain --from-kind K --role R --to-kind K --purpose P --categories a,b
${AUDIT_USAGE}
  ${DEMO_USAGE}
Configuration comes from the environment (PORT, HOST, DATABASE_URL, REDIS_URL, SGW_DATA_DIR,
SGW_CERTS_DIR, SGW_POLICIES_DIR, SGW_GATEWAY_ID, LOG_LEVEL, SGW_WEBHOOK_*, METRICS_PORT, METRICS_HOST).`;

type Command = (args: string[], config: Config, io: CliIo) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  ca: caCommand,
  agency: agencyCommand,
  cert: certCommand,
  token: tokenCommand,
  policy: (args, config, io) => runPolicyCommand(args, io, config.policiesDir),
  audit: auditCommand,
  webhook: webhookCommand,
  demo: demoCommand,
};

export async function runCli(argv: string[], io: CliIo = processIo, env = process.env): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`sgw: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args, loadConfig(env), io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`sgw ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof RegistryInputError || err instanceof CaExistsError) {
      io.stderr(`sgw ${name}: ${err.message}`);
      return 1;
    }
    io.stderr(`sgw ${name}: ${(err as Error).message}`);
    return 1;
  }
}
