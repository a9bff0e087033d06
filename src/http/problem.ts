import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, type ErrorCode, type FieldError } from './errors.js';
import { isUuid } from './schema.js';
import { SECURITY_HEADERS } from './security-headers.js';

/**
 * Accept a caller's correlation id when it is a UUID; otherwise make our own. The id is on every log
 * line, so free text (which could be an NHS number or a name) is never taken.
 */
export function genRequestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && isUuid(given) ? given : randomUUID();
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
  reasons?: AppError['extras']['reasons'];
}

export function problemBody(err: AppError, requestId: string): Problem {
  const body: Problem = {
    type: `https://sgw.invalid/problems/${err.code}`,
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    requestId,
  };
  if (err.extras.errors) body.errors = err.extras.errors;
  if (err.extras.reasons) body.reasons = err.extras.reasons;
  return body;
}

export function sendProblem(reply: FastifyReply, err: AppError): FastifyReply {
  if (err.extras.retryAfter !== undefined) reply.header('retry-after', String(err.extras.retryAfter));
  return reply
    .code(err.status)
    .type('application/problem+json')
    .serializer(JSON.stringify)
    .send(problemBody(err, reply.request.id));
}

/** Maps everything Fastify and its plugins can throw onto the contract's codes; never leaks internals. */
export function toAppError(error: FastifyError | AppError | Error, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors: FieldError[] = fe.validation.map((v) => {
      const allowed = (v.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
      return {
        path: validationPath(fe.validationContext, v.instancePath, v.params),
        // The allowed values are ours to name; the value sent is never echoed.
        message:
          v.keyword === 'enum' && allowed
            ? `must be one of: ${allowed.join(', ')}`
            : (v.message ?? 'is invalid'),
      };
    });
    return new AppError('validation_failed', 'The request does not match its schema.', { errors });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The body is larger than 256 KiB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'The body must be application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('validation_failed', 'The JSON body is empty.', {
        errors: [{ path: '/', message: 'body is empty' }],
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('validation_failed', 'The body is not valid JSON.', {
        errors: [{ path: '/', message: 'body is not valid JSON' }],
      });
  }
  // SQLSTATE class 22, "data exception": a value that passed its schema but that PostgreSQL cannot take
  // (a date-time in year 0, a number out of range). The client's input, not our fault; never its value.
  if (typeof fe.code === 'string' && /^22[0-9A-Z]{3}$/.test(fe.code) && 'severity' in fe) {
    return new AppError('validation_failed', 'A value is out of range.', {
      errors: [{ path: '/', message: 'a value is out of the range the gateway can store' }],
    });
  }
  if (fe.statusCode === 400) {
    return new AppError('validation_failed', 'The request is malformed.', {
      errors: [{ path: '/', message: 'malformed request' }],
    });
  }
  if (fe.statusCode === 413) return new AppError('payload_too_large', 'The body is larger than 256 KiB.');
  if (fe.statusCode === 415)
    return new AppError('unsupported_media_type', 'The body must be application/json.');
  if (fe.statusCode === 404) return new AppError('not_found', 'Not found.');
  if (fe.statusCode === 405) return new AppError('method_not_allowed', 'Method not allowed.');
  if (fe.statusCode === 429) return new AppError('rate_limited', 'Too many requests.');
  request.log.error({ err: error }, 'unhandled error');
  return new AppError('internal_error', 'An internal error occurred.');
}

function validationPath(context: string | undefined, instancePath: string, params: unknown): string {
  const missing = (params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
  const extra = missing.missingProperty ?? missing.additionalProperty;
  const base = instancePath || '';
  const full = extra ? `${base}/${extra}` : base || '/';
  return context && context !== 'body' ? `${context}:${full}` : full;
}

/**
 * Errors Fastify raises before routing (a malformed URL such as `/%zz`, an overlong path parameter):
 * without this they get Fastify's own JSON, its internal code, an echo of the URL and no x-request-id.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  // Raised before the onRequest hooks that set these on every other response.
  reply.headers(SECURITY_HEADERS);
  reply.header('x-request-id', request.id);
  const err =
    error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new AppError('validation_failed', 'The request URL is malformed.', {
          errors: [{ path: '/', message: 'malformed URL' }],
        })
      : toAppError(error, request);
  sendProblem(reply, err);
}

const RAW_SECURITY_HEADERS = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers over 16 KiB, a garbled request
 * line) and requests that did not arrive within the headers or request timeout: answered on the raw
 * socket, but still as problem details with an x-request-id, and the connection closed. Nothing is
 * written when an answer is already on its way on that connection.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const detail =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'The request headers are too large.'
      : timedOut
        ? 'The request took too long to arrive.'
        : 'The request is malformed.';
  const id = randomUUID();
  const problem = timedOut
    ? new AppError('request_timeout', detail)
    : new AppError('validation_failed', detail, { errors: [{ path: '/', message: detail }] });
  const body = JSON.stringify(problemBody(problem, id));
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = `${problem.status} ${timedOut ? 'Request Timeout' : 'Bad Request'}`;
    socket.write(
      `HTTP/1.1 ${status}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\n${RAW_SECURITY_HEADERS}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Problem details for every error and unknown route, and `x-request-id` on every response. An HTTP/1.1
 * request without a Host header is refused here (RFC 9112 section 3.2: 400), not by Node, whose own
 * answer is a bare 400 without either: the server is made with `requireHostHeader: false`.
 */
export function registerProblemHandling(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new AppError('validation_failed', 'An HTTP/1.1 request must carry a Host header.', {
        errors: [{ path: 'headers:/host', message: 'is required' }],
      });
    }
  });
  app.setErrorHandler((error, request, reply) => sendProblem(reply, toAppError(error as Error, request)));
  app.setNotFoundHandler((_request, reply) =>
    sendProblem(reply, new AppError('not_found', 'No such route.')),
  );
}
