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
  SGW_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 30_000 }),
  SGW_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  SGW_KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  SGW_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 60_000 }),
  SGW_TLS_HANDSHAKE_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  SGW_MAX_CONNECTIONS: Type.Integer({ minimum: 1, default: 1000 }),
  SGW_BODY_MIN_BYTES_PER_SECOND: Type.Integer({ minimum: 1, default: 1024 }),
  SGW_BODY_RATE_GRACE_MS: Type.Integer({ minimum: 0, default: 5000 }),
  SGW_DB_QUERY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 15_000 }),
  SGW_AUDIT_READ_WAIT_MS: Type.Integer({ minimum: 0, maximum: 30_000, default: 2000 }),
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
  /**
   * Requests per minute per practitioner and per agency, and failed authentications per minute per
   * client certificate (or per remote address without a good one) before failures are answered 429
   * (our addition to contract section 14).
   */
  rateLimits: { perPractitioner: number; perAgency: number; authFailures: number };
  /**
   * How long an audit read waits for the sequencer to chain what was committed before it began; past
   * it, the read answers with what it has and says what is pending (our addition; docs/ledger.md).
   */
  auditReadWaitMs: number;
  /** Each PostgreSQL query of the running gateway fails (503) when unanswered after this (SGW_DB_QUERY_TIMEOUT_MS). */
  databaseQueryTimeoutMs: number;
  /** Connection limits and timeouts (our addition; see docs/http.md). */
  http: HttpLimits;
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

/** How long a client may take, and how many connections it may hold (docs/http.md). */
export interface HttpLimits {
  /** The whole request, headers and body, must arrive within this. */
  requestTimeoutMs: number;
  /** The request headers must arrive within this (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection on which nothing moves for this long is closed. */
  idleTimeoutMs: number;
  /** The TLS handshake must finish within this. */
  handshakeTimeoutMs: number;
  /** Connections open at once; more are refused as they arrive. */
  maxConnections: number;
  /** A body arriving slower than this on average, once bodyRateGraceMs have passed, is refused. */
  bodyMinBytesPerSecond: number;
  /** How long a body may take before its rate is judged (small bodies are done well before). */
  bodyRateGraceMs: number;
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
  // Node refuses a headers timeout longer than the request timeout; say so in the operator's terms.
  if (parsed.SGW_HEADERS_TIMEOUT_MS > parsed.SGW_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      'invalid configuration: SGW_HEADERS_TIMEOUT_MS must not be greater than SGW_REQUEST_TIMEOUT_MS',
    );
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
    auditReadWaitMs: parsed.SGW_AUDIT_READ_WAIT_MS,
    databaseQueryTimeoutMs: parsed.SGW_DB_QUERY_TIMEOUT_MS,
    http: {
      requestTimeoutMs: parsed.SGW_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: parsed.SGW_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: parsed.SGW_KEEP_ALIVE_TIMEOUT_MS,
      idleTimeoutMs: parsed.SGW_IDLE_TIMEOUT_MS,
      handshakeTimeoutMs: parsed.SGW_TLS_HANDSHAKE_TIMEOUT_MS,
      maxConnections: parsed.SGW_MAX_CONNECTIONS,
      bodyMinBytesPerSecond: parsed.SGW_BODY_MIN_BYTES_PER_SECOND,
      bodyRateGraceMs: parsed.SGW_BODY_RATE_GRACE_MS,
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
