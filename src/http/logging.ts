import type { LoggerOptions } from 'pino';
import type { LogLevel } from '../config/index.js';

/**
 * No personal data in a log line: bodies are never logged, query strings (which can carry an NHS number)
 * are cut from URLs, credentials are redacted, and errors are logged by type, code and stack frames only,
 * because database messages can quote the values that failed.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'body',
  'req.body',
  'res.body',
  'payload',
  '*.nhsNumber',
  '*.pncId',
  '*.name',
  '*.dateOfBirth',
  '*.postcode',
  '*.subject',
];

interface LoggedRequest {
  id: string;
  method: string;
  url: string;
  routeOptions?: { url?: string };
}

export function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function serializeError(err: unknown): {
  type: string;
  message: string;
  stack: string;
  code?: string;
} {
  const e = err as { name?: string; code?: string; stack?: string };
  const out: { type: string; message: string; stack: string; code?: string } = {
    type: e?.name ?? typeof err,
    message: '[withheld]',
    // Frames only: a message can run over several lines, and its later lines can quote values.
    stack:
      e?.stack
        ?.split('\n')
        .filter((line) => /^\s+at /.test(line))
        .slice(0, 7)
        .join('\n') ?? '',
  };
  if (typeof e?.code === 'string') out.code = e.code;
  return out;
}

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: LoggedRequest) => ({ id: req.id, method: req.method, url: pathOnly(req.url) }),
      err: serializeError,
    },
  };
}
