import type { LoggerOptions } from 'pino';
import type { LogLevel } from '../config/index.js';

/**
 * No personal data in a log line: bodies are never logged, a request is logged by its route pattern
 * (`/v1/requests/:id`), never its path or query string (which can carry an NHS number or a name),
 * credentials are redacted, and errors are logged by type, code and stack frames only,
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

/** First segments that name the gateway's own namespaces, not a caller's data. */
const KNOWN_PREFIXES = new Set(['v1', 'health']);

/**
 * A path that matched no route, with every segment but a known first one masked (`/v1/x/9434765919`
 * is logged with a star for `x` and one for the number). The shape stays visible, for spotting probes;
 * the values do not.
 */
function maskedPath(url: string): string {
  const segments = pathOnly(url).split('/').slice(1);
  if (segments.length === 1 && segments[0] === '') return '/';
  return `/${segments.map((seg, i) => (i === 0 && KNOWN_PREFIXES.has(seg) ? seg : '*')).join('/')}`;
}

/** What a log line says of a request's URL: the matched route's pattern, or the masked path. */
function loggedUrl(req: LoggedRequest): string {
  return req.routeOptions?.url ?? maskedPath(req.url);
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
      req: (req: LoggedRequest) => ({ id: req.id, method: req.method, url: loggedUrl(req) }),
      err: serializeError,
    },
  };
}
