import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Helmet configured for a JSON API that no browser should render, frame or cache (docs/security.md):
 * nothing may load from a response, no page may frame one, no referrer leaves, and HSTS for a year
 * with subdomains. Not preloaded: the gateway's name is an agency network's own, not a public site.
 */
export const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true, preload: false },
  xFrameOptions: { action: 'deny' },
} as const satisfies HelmetOptions;

/** Replies carry personal data: no cache, shared or private, may keep one. */
const NO_STORE = { 'cache-control': 'no-store' } as const;

/**
 * The headers helmet sets with HELMET_OPTIONS, plus no-store, computed once: with these options helmet
 * sets the same values on every response, and building its middleware on every request (as
 * @fastify/helmet does) cost about 20 µs more a request here (docs/security.md).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = (() => {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  helmet(HELMET_OPTIONS)(req, res, () => {});
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.getHeaders())) {
    if (value !== undefined) headers[name] = String(value);
  }
  return { ...headers, ...NO_STORE };
})();

/**
 * Security headers on every response Fastify sends: the first hook, before any that may throw. The
 * answers written before Fastify has a reply set them in src/http/problem.ts.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
}
