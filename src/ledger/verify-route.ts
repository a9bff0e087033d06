import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { CheckpointSchema, CutFields } from './route-schemas.js';
import type { Ledger } from './service.js';
import { createVerifier } from './verifier.js';

const VerifyQuery = Type.Object({ full: Type.Boolean({ default: false }) }, { additionalProperties: false });

const VerifyReply = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  head: Type.Union([Type.Object({ seq: Type.Integer(), hash: Type.String() }), Type.Null()]),
  checkpoint: Type.Union([CheckpointSchema, Type.Null()]),
  checkpointsVerified: Type.Integer(),
  firstBadSeq: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  checked: Type.Integer(),
  incremental: Type.Boolean(),
  ...CutFields,
});

export interface VerifyRouteOptions {
  ledger: Ledger;
  readWaitMs: number;
}

/**
 * GET /v1/audit/verify (role auditor): incremental from the point this process last verified, or the
 * full recomputation with `?full=true` (what `sgw audit verify` always runs). See docs/ledger.md.
 */
export const verifyRoute: FastifyPluginAsync<VerifyRouteOptions> = async (app, opts) => {
  const { ledger } = opts;
  const verifier = createVerifier(ledger.db, { gatewayId: ledger.gatewayId, signingKey: ledger.signingKey });
  app.get<{ Querystring: Static<typeof VerifyQuery> }>(
    '/audit/verify',
    {
      config: { roles: ['auditor'] },
      schema: { querystring: VerifyQuery, response: { 200: VerifyReply } },
    },
    async (request) => {
      const upToQueueId = await ledger.catchUp(opts.readWaitMs);
      return verifier.verify({ full: request.query.full, upToQueueId });
    },
  );
};
