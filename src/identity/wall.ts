import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, forbidden, unauthenticated } from '../http/errors.js';
import type { AgencyRecord, RegistryView } from '../registry/index.js';
import { checkClientCertificate } from './mtls.js';
import { type Practitioner, type PractitionerRole, roleBelongsToKind } from './roles.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the identity wall on every /v1 route that is not public. */
    practitioner: Practitioner;
    certAgency: AgencyRecord | undefined;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; absent means any role of the agency's kind. */
    roles?: readonly PractitionerRole[];
    /** No client certificate or token needed (e.g. the ledger's public keys). */
    public?: boolean;
  }
}

export const MAX_TOKEN_LIFETIME_S = 3600;
export const CLOCK_LEEWAY_S = 60;

interface TokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  role: string;
  name?: unknown;
  iat: number;
  exp: number;
  jti: string;
}

interface DecodedToken {
  header: { kid?: unknown; alg?: unknown };
  payload: unknown;
}

export interface IdentityOptions {
  registry: RegistryView;
  gatewayId: string;
  /** Called once the practitioner is known, e.g. to apply per-practitioner rate limits. */
  afterAuthentication?: (request: FastifyRequest) => Promise<void>;
  /**
   * Called on each failed authentication with what it is counted against (`certificate:<fingerprint>`,
   * or `address:<ip>` without a good certificate); throws (429) to answer instead of the 401.
   */
  onAuthenticationFailure?: (request: FastifyRequest, key: string) => Promise<void>;
}

function isString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/**
 * The longest claim values taken: room for any real identifier and name, and small enough for a ledger
 * row (the actor's `sub` is stored in every entry the practitioner causes).
 */
const CLAIM_LIMITS = { sub: 128, jti: 128, role: 64, name: 200 } as const;

/**
 * C0 and C1 controls (NUL, line feed and DEL included), the Unicode line and paragraph separators, and
 * lone surrogates (UTF-16 that is not well formed): none belongs in an identifier or a name, and
 * PostgreSQL refuses NUL and lone surrogates, which would turn a bad token into a ledger outage.
 */
const MALFORMED = /[\p{Cc}\p{Cs}\u2028\u2029]/u;

function isBoundedClaim(v: unknown, max: number): v is string {
  return isString(v) && v.length <= max && !MALFORMED.test(v);
}

/**
 * The identity wall: every /v1 route needs a client certificate from the gateway's CA naming an active
 * agency, and a practitioner token signed by one of that agency's registered keys. Every failure is
 * 401 (or 403 for a role the agency's kind does not have), never a 500 and never a hint of which check
 * failed beyond what the caller already knows.
 */
export async function registerIdentityWall(app: FastifyInstance, opts: IdentityOptions): Promise<void> {
  const { registry } = opts;
  await app.register(fastifyJwt, {
    secret: (request: FastifyRequest, token: unknown) => {
      const decoded = token as DecodedToken;
      const agency = request.certAgency;
      const kid = decoded.header?.kid;
      const key = agency && isString(kid) ? registry.jwtKey(agency.id, kid) : undefined;
      if (!key) return Promise.reject(unauthenticated());
      return Promise.resolve(key.publicKeyPem);
    },
    decode: { complete: true },
    verify: {
      algorithms: ['ES256', 'RS256'],
      allowedAud: opts.gatewayId,
      requiredClaims: ['iss', 'sub', 'aud', 'role', 'iat', 'exp', 'jti'],
      clockTolerance: CLOCK_LEEWAY_S * 1000,
      cache: 10_000,
    },
  });
  app.decorateRequest('practitioner', null as unknown as Practitioner);
  app.decorateRequest('certAgency', undefined);

  // Default deny, checked at start-up: a /v1 route must say which roles may use it (or that it is public).
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const config = route.config as { roles?: unknown; public?: unknown } | undefined;
    if (!config?.roles && !config?.public) {
      throw new Error(`route ${String(route.method)} ${route.url} declares neither roles nor public`);
    }
  });

  app.addHook('onRequest', async (request) => {
    // Decided by the matched route, not the raw URL, so that an encoded path cannot slip past.
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith('/v1/')) return;
    if (request.routeOptions.config?.public) return;

    /** Counted first, so that failures beyond the limit are 429 and are not logged one by one. */
    const refuse = async (key: string, reason: string, detail: string): Promise<never> => {
      await opts.onAuthenticationFailure?.(request, key);
      request.log.info({ reason }, 'authentication refused');
      throw unauthenticated(detail);
    };

    const cert = checkClientCertificate(request.raw.socket, registry);
    if (!cert.ok) {
      return refuse(
        `address:${request.ip}`,
        cert.reason,
        'A valid client certificate of a registered, active agency is required.',
      );
    }
    request.certAgency = cert.agency;
    const token = await practitionerFromToken(request, cert.agency);
    if (!token.ok) return refuse(`certificate:${cert.fingerprint}`, token.reason, token.detail);
    request.practitioner = token.practitioner;
    await opts.afterAuthentication?.(request);

    const allowed = request.routeOptions.config?.roles;
    if (allowed && !allowed.includes(request.practitioner.role)) throw forbidden();
  });
}

/** A refusal carries a `reason` for the log and a `detail` for the caller. */
type TokenOutcome = { ok: true; practitioner: Practitioner } | { ok: false; reason: string; detail: string };

/** The practitioner a request's token names, or why it names none; a role of another kind is 403. */
async function practitionerFromToken(request: FastifyRequest, agency: AgencyRecord): Promise<TokenOutcome> {
  let claims: TokenClaims;
  try {
    claims = (await request.jwtVerify()) as TokenClaims;
  } catch (err) {
    const reason = (err as { code?: string }).code ?? 'invalid token';
    return { ok: false, reason, detail: 'A valid practitioner token is required.' };
  }
  const refused = (reason: string, detail: string): TokenOutcome => ({ ok: false, reason, detail });
  if (claims.iss !== agency.id) {
    return refused('iss mismatch', 'The token was not issued by the certificate agency.');
  }
  if (
    !isBoundedClaim(claims.sub, CLAIM_LIMITS.sub) ||
    !isBoundedClaim(claims.jti, CLAIM_LIMITS.jti) ||
    !isBoundedClaim(claims.role, CLAIM_LIMITS.role) ||
    (claims.name !== undefined && !isBoundedClaim(claims.name, CLAIM_LIMITS.name))
  ) {
    return refused(
      'malformed claim',
      'The token lacks a required claim, or a claim is too long or malformed.',
    );
  }
  if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') {
    return refused('missing claim', 'The token lacks a required claim.');
  }
  if (claims.exp - claims.iat > MAX_TOKEN_LIFETIME_S) {
    return refused('lifetime', 'The token lifetime exceeds 3600 seconds.');
  }
  if (claims.iat > Date.now() / 1000 + CLOCK_LEEWAY_S) {
    return refused('issued in the future', 'The token is issued in the future.');
  }
  if (!roleBelongsToKind(claims.role, agency.kind)) {
    throw forbidden('The role does not belong to the agency kind.');
  }
  return {
    ok: true,
    practitioner: {
      agency: agency.id,
      kind: agency.kind,
      sub: claims.sub,
      role: claims.role,
      name: claims.name ?? claims.sub,
      jti: claims.jti,
    },
  };
}

/** For handlers: the caller's identity, which the wall guarantees on non-public /v1 routes. */
export function practitionerOf(request: FastifyRequest): Practitioner {
  if (!request.practitioner) throw new AppError('unauthenticated', 'No authenticated practitioner.');
  return request.practitioner;
}
