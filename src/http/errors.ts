/**
 * The one place where the gateway's error codes live (contract section 2). Code throws AppError;
 * the error handler in problem.ts turns it into RFC 9457 problem details.
 */
export const ERRORS = {
  validation_failed: { status: 400, title: 'Validation failed' },
  unauthenticated: { status: 401, title: 'Unauthenticated' },
  forbidden: { status: 403, title: 'Forbidden' },
  policy_denied: { status: 403, title: 'Denied by policy' },
  consent_required: { status: 403, title: 'Consent required' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal error' },
  audit_unavailable: { status: 503, title: 'Audit ledger unavailable' },
  dependency_unavailable: { status: 503, title: 'Dependency unavailable' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

export interface DenialReason {
  category?: string;
  ruleId?: string;
  message: string;
}

export interface ProblemExtras {
  errors?: FieldError[];
  reasons?: DenialReason[];
  /** Seconds, for 429. */
  retryAfter?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extras: ProblemExtras;

  /** `detail` reaches the client: it must never hold personal data or internal messages. */
  constructor(code: ErrorCode, detail?: string, extras: ProblemExtras = {}) {
    super(detail ?? ERRORS[code].title);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.extras = extras;
  }
}

export const notFound = (): AppError =>
  new AppError('not_found', 'The resource does not exist or is not visible to you.');
export const unauthenticated = (detail = 'Authentication failed.'): AppError =>
  new AppError('unauthenticated', detail);
export const forbidden = (detail = 'Your role may not use this route.'): AppError =>
  new AppError('forbidden', detail);
export const conflict = (detail: string): AppError => new AppError('conflict', detail);
