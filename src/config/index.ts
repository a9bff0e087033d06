import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { envSchema } from 'env-schema';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const EnvSchema = Type.Object({
  // 0 asks the OS for a free port (tests, side-by-side gateways).
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8443 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  SGW_DATA_DIR: Type.String({ minLength: 1, default: './var' }),
  SGW_CERTS_DIR: Type.String({ minLength: 1, default: './certs' }),
  SGW_POLICIES_DIR: Type.String({ minLength: 1, default: './policies' }),
  SGW_GATEWAY_ID: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', default: 'sgw' }),
  SGW_RATE_LIMIT_PER_PRACTITIONER: Type.Integer({ minimum: 1, default: 600 }),
  SGW_RATE_LIMIT_PER_AGENCY: Type.Integer({ minimum: 1, default: 6000 }),
  SGW_DEFAULT_RESPOND_WORKING_DAYS: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
  // 12 tries, 1 minute doubling: the waits alone add up to 2047 minutes (over 34 h) before a dead letter.
  SGW_WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 12 }),
  SGW_WEBHOOK_BACKOFF_MS: Type.Integer({ minimum: 1, maximum: 86_400_000, default: 60_000 }),
  SGW_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK: Type.Boolean({ default: false }),
  SGW_WEBHOOK_CA_FILE: Type.Optional(Type.String({ minLength: 1 })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  METRICS_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  LOG_LEVEL: Type.Unsafe<(typeof LOG_LEVELS)[number]>({
    type: 'string',
    enum: [...LOG_LEVELS],
    default: 'info',
  }),
});

type Env = Static<typeof EnvSchema>;

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL connection string; undefined means the embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  redisUrl: string;
  dataDir: string;
  certsDir: string;
  policiesDir: string;
  gatewayId: string;
  logLevel: LogLevel;
  /** Requests per minute: per practitioner and per agency (our addition to contract section 14). */
  rateLimits: { perPractitioner: number; perAgency: number };
  /**
   * Working days a holder has to answer a request when no matching rule sets `respondWithin` (our
   * addition; timescales belong in configuration, not in code).
   */
  defaultRespondWorkingDays: number;
  webhooks: WebhookConfig;
  /** Undefined: no metrics listener (METRICS_PORT unset). */
  metrics: { port: number; host: string } | undefined;
}

/** Webhook delivery (contract section 14; docs/notifications.md). */
export interface WebhookConfig {
  /** Tries before a dead letter; the first try counts. */
  maxAttempts: number;
  /** The wait after the first failed try; each later wait doubles, plus up to a quarter of jitter. */
  backoffMs: number;
  /** For one try: connect, send, and the receiver's status line. */
  timeoutMs: number;
  /** http:// to a loopback address (127.0.0.0/8, ::1), and https to loopback: development and tests only. */
  allowHttpLoopback: boolean;
  /** An extra CA (PEM) trusted for receivers besides the system's, for private deployments and tests. */
  caFile: string | undefined;
}

export class ConfigError extends Error {}

/**
 * Reads and validates the environment once. A bad value throws a ConfigError that names the variable,
 * so that start-up stops with a message an operator can act on.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let parsed: Env;
  try {
    const data = { ...env };
    for (const name of ['DATABASE_URL', 'METRICS_PORT', 'SGW_WEBHOOK_CA_FILE']) {
      if (data[name] === '') delete data[name];
    }
    // env: false, or env-schema would merge process.env under `data` and the caller's env would not be all.
    parsed = envSchema<Env>({ schema: EnvSchema, data, env: false, dotenv: false });
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${describeEnvError(err)}`);
  }
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    dataDir: path.resolve(parsed.SGW_DATA_DIR),
    certsDir: path.resolve(parsed.SGW_CERTS_DIR),
    policiesDir: path.resolve(parsed.SGW_POLICIES_DIR),
    gatewayId: parsed.SGW_GATEWAY_ID,
    logLevel: parsed.LOG_LEVEL,
    rateLimits: {
      perPractitioner: parsed.SGW_RATE_LIMIT_PER_PRACTITIONER,
      perAgency: parsed.SGW_RATE_LIMIT_PER_AGENCY,
    },
    defaultRespondWorkingDays: parsed.SGW_DEFAULT_RESPOND_WORKING_DAYS,
    webhooks: {
      maxAttempts: parsed.SGW_WEBHOOK_MAX_ATTEMPTS,
      backoffMs: parsed.SGW_WEBHOOK_BACKOFF_MS,
      timeoutMs: parsed.SGW_WEBHOOK_TIMEOUT_MS,
      allowHttpLoopback: parsed.SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK,
      caFile: parsed.SGW_WEBHOOK_CA_FILE === undefined ? undefined : path.resolve(parsed.SGW_WEBHOOK_CA_FILE),
    },
    metrics:
      parsed.METRICS_PORT === undefined
        ? undefined
        : { port: parsed.METRICS_PORT, host: parsed.METRICS_HOST },
  };
}

function describeEnvError(err: unknown): string {
  const errors = (err as { errors?: Array<{ instancePath?: string; message?: string; params?: unknown }> })
    .errors;
  if (!Array.isArray(errors) || errors.length === 0) return (err as Error).message;
  const messages = errors.map((e) => {
    const name = (e.instancePath ?? '').replace(/^\//, '') || missingProperty(e.params) || 'environment';
    const allowed = (e.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
    return `${name} ${allowed ? `must be one of: ${allowed.join(', ')}` : (e.message ?? 'is invalid')}`;
  });
  return [...new Set(messages)].join('; ');
}

function missingProperty(params: unknown): string | undefined {
  const p = params as { missingProperty?: string } | undefined;
  return p?.missingProperty;
}
