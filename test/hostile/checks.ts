import { ERRORS } from '../../src/http/errors.js';
import type { Case } from './cases.js';
import type { WireOutcome, WireResponse } from './wire.js';

/**
 * What every response to a hostile request must satisfy: no 5xx; no stack trace or file path; none of
 * the request's own planted personal data echoed; every error a problem+json of the contract's shape;
 * an x-request-id and the security headers on each; and nothing protected served to a caller who did
 * not authenticate.
 */
const LEAK_SHAPES: ReadonlyArray<[string, RegExp]> = [
  ['a stack frame', /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:|node:|\/)[^\s)]*:\d+:\d+/],
  ['a file path', /(?:\/work\/|\/home\/|\/tmp\/|\/usr\/|node_modules|[\w-]+\.(?:ts|js|mjs|cjs):\d+)/],
  [
    'an internal error name',
    /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|FST_ERR_[A-Z_]+|ERR_[A-Z_]{4,})\b/,
  ],
  [
    'a database message',
    /\b(?:duplicate key|violates|relation "|column "|syntax error at|invalid input syntax|SQLSTATE)\b/i,
  ],
];

const PROBLEM_TYPE = /^application\/problem\+json(?:;|$)/;

/** A caller whose request the identity wall must refuse on every route that is not public. */
const isUnauthenticated = (c: Case): boolean => c.caller.kind !== 'agency';

export interface Verdict {
  failures: string[];
  status: number;
}

function checkProblem(r: WireResponse, isHead: boolean, failures: string[]): void {
  if (!PROBLEM_TYPE.test(r.headers['content-type'] ?? '')) {
    failures.push(
      `error ${r.status} not problem+json (content-type ${JSON.stringify(r.headers['content-type'])})`,
    );
    return;
  }
  if (isHead) return;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(r.body) as Record<string, unknown>;
  } catch {
    failures.push(`error ${r.status}: problem body is not JSON`);
    return;
  }
  const code = body.code as keyof typeof ERRORS;
  for (const field of ['type', 'title', 'detail', 'code', 'requestId'] as const) {
    if (typeof body[field] !== 'string') failures.push(`problem without a string ${field}`);
  }
  if (body.status !== r.status) failures.push(`problem status ${String(body.status)} on a ${r.status}`);
  if (!ERRORS[code]) failures.push(`problem code ${String(code)} is not in the contract's table`);
  else if (ERRORS[code].status !== r.status) failures.push(`problem code ${code} on a ${r.status}`);
  if (body.requestId !== r.headers['x-request-id'])
    failures.push('problem requestId differs from x-request-id');
  if (body.errors !== undefined) {
    const ok =
      Array.isArray(body.errors) &&
      body.errors.every(
        (e) => e && typeof e === 'object' && typeof e.path === 'string' && typeof e.message === 'string',
      );
    if (!ok) failures.push('problem errors are not [{ path, message }]');
  }
  if (r.status === 429 && !r.headers['retry-after']) failures.push('429 without Retry-After');
}

export function checkResponse(
  c: Case,
  outcome: WireOutcome,
  planted: readonly string[],
  parties: ReadonlyMap<string, readonly string[]>,
): Verdict {
  const failures: string[] = [];
  if (!outcome.ok) {
    // A request with the method PRI (how an HTTP/2 connection preface begins) is closed unanswered by
    // Node on purpose: an HTTP/2 client cannot read an HTTP/1.1 answer.
    if (c.method === 'PRI' && outcome.reason === 'closed without a response') return { failures, status: 0 };
    failures.push(`no response: ${outcome.reason}`);
    return { failures, status: 0 };
  }
  const r = outcome.response;
  if (r.status === 0) {
    failures.push(`not an HTTP response: ${JSON.stringify(r.raw.slice(0, 80))}`);
    return { failures, status: 0 };
  }
  if (r.status >= 500) failures.push(`status ${r.status}`);
  for (const [what, re] of LEAK_SHAPES) {
    const m = re.exec(r.raw);
    if (m) failures.push(`${what} in the response: ${JSON.stringify(m[0].slice(0, 60))}`);
  }
  for (const value of planted) {
    if (value.length >= 8 && r.raw.includes(value))
      failures.push(`planted personal data echoed (${value.length} chars)`);
  }
  if (!r.headers['x-request-id']) failures.push('no x-request-id');
  if (r.headers['x-content-type-options'] !== 'nosniff' || !r.headers['strict-transport-security']) {
    failures.push('security headers missing');
  }
  if (r.status >= 400) checkProblem(r, c.method === 'HEAD', failures);
  else if (
    r.status >= 200 &&
    c.method !== 'HEAD' &&
    r.status !== 204 &&
    !/^application\/json/.test(r.headers['content-type'] ?? '')
  ) {
    failures.push(`${r.status} with content-type ${JSON.stringify(r.headers['content-type'])}`);
  }
  if (
    r.status >= 200 &&
    r.status < 300 &&
    !c.op.isPublic &&
    isUnauthenticated(c) &&
    c.op.path.startsWith('/v1/')
  ) {
    failures.push(`a ${c.caller.kind} caller was served ${r.status}`);
  }
  if (r.status >= 200 && r.status < 300 && c.caller.kind === 'agency') {
    // A hostile but authenticated agency naming another agency's record: it must neither see nor change it.
    for (const [id, agencies] of parties) {
      if (c.target.includes(id) && !agencies.includes(c.caller.agency)) {
        failures.push(`${c.caller.agency} was served ${r.status} on a record of ${agencies.join(' and ')}`);
      }
    }
  }
  return { failures, status: r.status };
}
