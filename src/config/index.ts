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
  SGW_AUTH_FAILURES_PER_MINUTE: Type.Integer({ minimum: 1, default: 60 }),
  SGW_DEFAULT_RESPOND_WORKING_DAYS: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
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
  /**
   * Requests per minute per practitioner and per agency, and failed authentications per minute per
   * client certificate (or per remote address without a good one) before failures are answered 429
   * (our addition to contract section 14).
   */
  rateLimits: { perPractitioner: number; perAgency: number; authFailures: number };
  /**
   * Working days a holder has to answer a request when no matching rule sets `respondWithin` (our
   * addition; timescales belong in configuration, not in code).
   */
  defaultRespondWorkingDays: number;
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
    if (data.DATABASE_URL === '') delete data.DATABASE_URL;
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
      authFailures: parsed.SGW_AUTH_FAILURES_PER_MINUTE,
    },
    defaultRespondWorkingDays: parsed.SGW_DEFAULT_RESPOND_WORKING_DAYS,
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
