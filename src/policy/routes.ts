import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../http/errors.js';
import { stringEnum } from '../http/schema.js';
import { type AgencyKind, ALL_ROLES } from '../identity/roles.js';
import { CATEGORY_NAMES, FLAG_TYPES, OVERRIDE_REASONS, PURPOSES } from './catalogue.js';
import { type ConsentInput, explain } from './decide.js';
import type { PolicySource } from './store.js';

export interface PolicyRoutesOptions {
  policies: PolicySource;
  /** The kind of an active agency, or undefined for an unknown or inactive one. */
  agencyKind: (id: string) => AgencyKind | undefined;
}

const Within = Type.Union([
  Type.Object({ workingDays: Type.Integer() }, { additionalProperties: false }),
  Type.Object({ hours: Type.Number() }, { additionalProperties: false }),
]);

const PolicyList = Type.Object({
  version: Type.String(),
  loadedAt: Type.String(),
  rules: Type.Array(
    Type.Object({
      id: Type.String(),
      description: Type.String(),
      effect: stringEnum(['permit', 'deny'] as const),
    }),
  ),
});

const ExplainBody = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 128 }),
    purpose: stringEnum(PURPOSES),
    categories: Type.Array(stringEnum(CATEGORY_NAMES), {
      minItems: 1,
      maxItems: CATEGORY_NAMES.length,
      uniqueItems: true,
    }),
    consent: Type.Optional(
      Type.Object(
        {
          status: stringEnum(['given', 'refused', 'not_sought'] as const),
          consentId: Type.Optional(Type.String({ maxLength: 128 })),
        },
        { additionalProperties: false },
      ),
    ),
    // true: an override of any reason a rule accepts; or the reason a request would give, alone or in
    // the request's own shape.
    override: Type.Optional(
      Type.Union([
        Type.Boolean(),
        stringEnum(OVERRIDE_REASONS),
        Type.Object(
          {
            reason: stringEnum(OVERRIDE_REASONS),
            justification: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
      ]),
    ),
  },
  { additionalProperties: false },
);
type ExplainBodyT = Static<typeof ExplainBody>;

const ExplainEntry = Type.Object({
  decision: stringEnum(['permit', 'deny'] as const),
  code: Type.Optional(stringEnum(['policy_denied', 'consent_required'] as const)),
  ruleIds: Type.Array(Type.String()),
  fields: Type.Array(Type.String()),
  lawfulBasis: Type.Array(Type.String()),
  consent: Type.Union([stringEnum(['required', 'not_required'] as const), Type.Null()]),
  consentStatus: Type.Union([Type.Object({ status: Type.String(), basis: Type.String() }), Type.Null()]),
  allowOverride: Type.Boolean(),
  respondWithin: Type.Optional(Within),
  flagTypes: Type.Optional(Type.Array(stringEnum(FLAG_TYPES))),
  message: Type.String(),
});
const ExplainReply = Type.Record(Type.String(), ExplainEntry);

/**
 * GET /v1/policies and POST /v1/policies/explain (contract section 10). Explain answers for the
 * caller's own agency kind and role; it discloses rules, not personal data, so it is not ledgered. A
 * hypothetical consent in the body is taken to cover every category asked.
 */
export async function policyRoutes(app: FastifyInstance, opts: PolicyRoutesOptions): Promise<void> {
  // Every role: the rules are public within the partnership, and a DPO reads them to check them.
  const config = { roles: ALL_ROLES };
  app.get('/v1/policies', { config, schema: { response: { 200: PolicyList } } }, async (_request, reply) => {
    const bundle = opts.policies.current();
    reply.header('x-policy-version', bundle.version);
    return {
      version: bundle.version,
      loadedAt: opts.policies.loadedAt.toISOString(),
      rules: bundle.rules.map((r) => ({ id: r.id, description: r.description, effect: r.effect })),
    };
  });

  app.post<{ Body: ExplainBodyT }>(
    '/v1/policies/explain',
    { config, schema: { body: ExplainBody, response: { 200: ExplainReply } } },
    async (request, reply) => {
      const body = request.body;
      const holderKind = opts.agencyKind(body.to);
      // The directory of agencies is public to every agency: an unknown one is a bad field, not a secret.
      if (!holderKind) {
        throw new AppError('validation_failed', 'The request is not valid.', {
          errors: [{ path: '/to', message: 'is not an active agency' }],
        });
      }
      const status = body.consent?.status;
      const consent: ConsentInput =
        status === 'given'
          ? { covered: true }
          : status === 'refused'
            ? { covered: false, refused: true }
            : { covered: false };
      const bundle = opts.policies.current();
      reply.header('x-policy-version', bundle.version);
      return explain(bundle, {
        requesterKind: request.practitioner.kind,
        role: request.practitioner.role,
        holderKind,
        purpose: body.purpose,
        categories: body.categories,
        consent: () => consent,
        override: typeof body.override === 'object' ? body.override.reason : (body.override ?? false),
      });
    },
  );
}
