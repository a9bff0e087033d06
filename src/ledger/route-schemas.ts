import { Type } from '@sinclair/typebox';
import { ALL_ROLES } from '../identity/index.js';

/** The JSON Schemas of the audit routes (contract section 11) and the roles they admit. */

export const CheckpointSchema = Type.Object({
  treeSize: Type.Integer(),
  rootHash: Type.String(),
  timestamp: Type.String(),
  keyId: Type.String(),
  signature: Type.String(),
});

/** Every audit read says how far it reaches (contract section 11, our addition; docs/ledger.md). */
export const CutFields = {
  asOf: Type.Integer({ minimum: 0 }),
  pending: Type.Integer({ minimum: 0 }),
};

export const Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
export const Str = (max = 200) => Type.String({ minLength: 1, maxLength: max });

export const EntrySchema = Type.Object({
  seq: Type.Integer(),
  id: Type.String(),
  at: Type.String(),
  action: Type.String(),
  actor: Type.Object({ agency: Type.String(), sub: Type.String(), role: Type.String() }),
  counterpart: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
  caseReference: Type.Optional(Type.String()),
  subjectRef: Type.Union([Type.String(), Type.Null()]),
  subjectRefs: Type.Array(Type.String()),
  purpose: Type.Optional(Type.String()),
  lawfulBasis: Type.Optional(Type.Array(Type.String())),
  consent: Type.Optional(Type.String()),
  decision: Type.Union([Type.Literal('permit'), Type.Literal('deny')]),
  ruleIds: Type.Array(Type.String()),
  policyVersion: Type.String(),
  fields: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  categories: Type.Optional(Type.Array(Type.String())),
  reason: Type.Optional(Type.String()),
  counterparts: Type.Optional(Type.Array(Type.String())),
  consentId: Type.Optional(Type.String()),
  consentIds: Type.Optional(Type.Array(Type.String())),
  concernId: Type.Optional(Type.String()),
  flagId: Type.Optional(Type.String()),
  outcome: Type.Optional(Type.String()),
  commitments: Type.Optional(Type.Record(Type.String(), Hex)),
  prevHash: Type.String(),
  hash: Type.String(),
});

export const SubjectQuery = {
  nhsNumber: Type.Optional(Type.String({ pattern: '^[0-9 ]{10,13}$' })),
  pncId: Type.Optional(Str(32)),
};

export const AuditQuery = Type.Object(
  {
    ...SubjectQuery,
    actorSub: Type.Optional(Str()),
    agency: Type.Optional(Str()),
    action: Type.Optional(Str(100)),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
  },
  { additionalProperties: false },
);

export const SubjectReportQuery = Type.Object(SubjectQuery, { additionalProperties: false });

export const ReportItem = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  action: Type.String(),
  actor: Type.Object({ agency: Type.String(), sub: Type.String(), role: Type.String() }),
  counterpart: Type.Optional(Type.String()),
  counterparts: Type.Optional(Type.Array(Type.String())),
  decision: Type.String(),
  purpose: Type.Optional(Type.String()),
  lawfulBasis: Type.Optional(Type.Array(Type.String())),
  consent: Type.Optional(Type.String()),
  caseReference: Type.Optional(Type.String()),
  categories: Type.Optional(Type.Array(Type.String())),
  fields: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  requestId: Type.Optional(Type.String()),
  concernId: Type.Optional(Type.String()),
  flagId: Type.Optional(Type.String()),
  consentId: Type.Optional(Type.String()),
  outcome: Type.Optional(Type.String()),
});

export const ProofParams = Type.Object({ seq: Type.Integer({ minimum: 1 }) });

export const TextsReply = Type.Object({
  seq: Type.Integer(),
  action: Type.String(),
  texts: Type.Array(
    Type.Object({
      field: Type.String(),
      commitment: Hex,
      /** False once the record no longer holds the text (or never did): the commitment stands alone. */
      held: Type.Boolean(),
      text: Type.Optional(Type.String()),
      salt: Type.Optional(Hex),
      /** SHA-256(salt ‖ text) equals the commitment: recomputed here, and checkable by anyone. */
      matches: Type.Optional(Type.Boolean()),
    }),
  ),
});

export const ProofQuery = Type.Object(
  { treeSize: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
export const ConsistencyQuery = Type.Object(
  { from: Type.Integer({ minimum: 0 }), to: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export const AUDITOR = { roles: ['auditor'] } as const;
/**
 * Checkpoints and proofs hold only hashes: every authenticated agency and role may read them, so that
 * each agency can keep the checkpoints it sees and detect a rewritten history (contract section 11).
 */
export const ANY_ROLE = { roles: ALL_ROLES };
