import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../http/errors.js';
import { nhsNumberProblem, normaliseNhsNumber } from '../http/subject.js';
import { type Practitioner, practitionerOf } from '../identity/index.js';
import type { Queryable } from '../store/db.js';
import { recordedTransaction } from './append.js';
import type { LedgerEntry } from './entry.js';
import { auditCut, consistencyProof, inclusionProof, listKeys, queryEntries, treeSize } from './queries.js';
import {
  ANY_ROLE,
  AUDITOR,
  AuditQuery,
  CheckpointSchema,
  ConsistencyQuery,
  CutFields,
  EntrySchema,
  Hex,
  ProofParams,
  ProofQuery,
  ReportItem,
  SubjectReportQuery,
} from './route-schemas.js';
import { latestCheckpoint } from './sequencer.js';
import type { Ledger } from './service.js';
import type { SubjectIdentifiers } from './subject.js';
import { type TextSource, textsRoute } from './texts-route.js';
import { verifyRoute } from './verify-route.js';

export interface LedgerRoutesOptions {
  ledger: Ledger;
  /** The policy bundle version, recorded on the ledger entries these routes write themselves. */
  policyVersion?: () => string;
  /** Where the journeys keep the texts their entries commit to (none: no text is ever shown). */
  texts?: TextSource;
  /**
   * How long an audit read waits for the sequencer to chain what was committed before it began (the
   * default, 2 s, is SGW_AUDIT_READ_WAIT_MS's).
   */
  readWaitMs?: number;
}

const badQuery = (path: string, message: string) =>
  new AppError('validation_failed', 'The request does not match its schema.', {
    errors: [{ path: `querystring:/${path}`, message }],
  });

function subjectFrom(q: { nhsNumber?: string; pncId?: string }): SubjectIdentifiers | undefined {
  const s: SubjectIdentifiers = {};
  if (q.nhsNumber !== undefined) {
    // A mistyped number would find nothing and look like "no disclosures": say it is wrong instead.
    const problem = nhsNumberProblem(normaliseNhsNumber(q.nhsNumber));
    if (problem) throw badQuery('nhsNumber', problem);
    s.nhsNumber = q.nhsNumber;
  }
  if (q.pncId !== undefined) s.pncId = q.pncId;
  return s.nhsNumber !== undefined || s.pncId !== undefined ? s : undefined;
}

const reportItem = (e: LedgerEntry): Static<typeof ReportItem> => {
  const { seq, at, action, actor, counterpart, counterparts, decision, purpose, lawfulBasis, consent } = e;
  return {
    seq,
    at,
    action,
    actor,
    counterpart,
    counterparts,
    decision,
    purpose,
    lawfulBasis,
    consent,
    caseReference: e.caseReference,
    categories: e.categories,
    fields: e.fields,
    requestId: e.requestId,
    concernId: e.concernId,
    flagId: e.flagId,
    consentId: e.consentId,
    outcome: e.outcome,
  };
};

/**
 * The audit routes of contract section 11, to be registered under the /v1 identity wall with prefix
 * `/v1`. Each auditor sees only entries where its own agency is actor or counterpart.
 */
export const ledgerRoutes: FastifyPluginAsync<LedgerRoutesOptions> = async (app, opts) => {
  const { ledger } = opts;
  const { db } = ledger;
  const policyVersion = opts.policyVersion ?? (() => 'none');
  const readWaitMs = opts.readWaitMs ?? 2000;

  /** Auditors are watched too: a look at one person's record is itself an entry, written first. */
  const recordAuditorRead = (
    tx: Queryable,
    action: 'audit.searched' | 'audit.subject_report',
    me: Practitioner,
    subject: SubjectIdentifiers,
  ) =>
    ledger.append(tx, {
      entries: [
        {
          action,
          actor: { agency: me.agency, sub: me.sub, role: me.role },
          subject,
          decision: 'permit',
          ruleIds: [],
          policyVersion: policyVersion(),
        },
      ],
    });

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      config: AUDITOR,
      schema: {
        querystring: AuditQuery,
        response: {
          200: Type.Object({
            entries: Type.Array(EntrySchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
            ...CutFields,
          }),
        },
      },
    },
    async (request) => {
      const me = practitionerOf(request);
      const q = request.query;
      if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to))
        throw badQuery('from', 'must not be after to');
      const subject = subjectFrom(q);
      const upTo = await ledger.catchUp(readWaitMs);
      const search = async (from: Queryable) => {
        const cut = await auditCut(from, upTo);
        const entries = await queryEntries(from, {
          viewer: me.agency,
          subjectRefs: subject ? ledger.subjectRefs(subject) : undefined,
          actorSub: q.actorSub,
          agency: q.agency,
          action: q.action,
          from: q.from,
          to: q.to,
          afterSeq: q.cursor !== undefined ? Number(q.cursor) : undefined,
          upToSeq: cut.asOf,
          limit: q.limit,
        });
        return { entries, ...cut };
      };
      // A search for one person answers the subject report's question, so it is watched the same way.
      const found = subject
        ? await recordedTransaction(db, async (tx) => {
            await recordAuditorRead(tx, 'audit.searched', me, subject);
            return search(tx);
          })
        : await search(db);
      const last = found.entries.at(-1);
      return { ...found, nextCursor: last && found.entries.length === q.limit ? String(last.seq) : null };
    },
  );

  app.get<{ Querystring: Static<typeof SubjectReportQuery> }>(
    '/audit/subject-report',
    {
      config: AUDITOR,
      schema: {
        querystring: SubjectReportQuery,
        response: {
          200: Type.Object({
            generatedAt: Type.String(),
            count: Type.Integer(),
            entries: Type.Array(ReportItem),
            ...CutFields,
          }),
        },
      },
    },
    async (request) => {
      const me = practitionerOf(request);
      const subject = subjectFrom(request.query);
      if (!subject) throw badQuery('nhsNumber', 'nhsNumber or pncId is required');
      const refs = ledger.subjectRefs(subject);
      const upTo = await ledger.catchUp(readWaitMs);
      // The report is itself recorded, before anything is read: no record, no report.
      return recordedTransaction(db, async (tx) => {
        await recordAuditorRead(tx, 'audit.subject_report', me, subject);
        const cut = await auditCut(tx, upTo);
        const items: Static<typeof ReportItem>[] = [];
        let afterSeq = 0;
        for (;;) {
          const page = await queryEntries(tx, {
            viewer: me.agency,
            subjectRefs: refs,
            afterSeq,
            upToSeq: cut.asOf,
            limit: 500,
          });
          items.push(...page.map(reportItem));
          const last = page.at(-1);
          if (!last || page.length < 500) break;
          afterSeq = last.seq;
        }
        return { generatedAt: new Date().toISOString(), count: items.length, entries: items, ...cut };
      });
    },
  );

  app.get(
    '/audit/checkpoint',
    { config: ANY_ROLE, schema: { response: { 200: CheckpointSchema } } },
    async () => {
      const cp = await latestCheckpoint(db);
      if (!cp) throw new AppError('audit_unavailable', 'No checkpoint has been signed yet.');
      return cp;
    },
  );

  app.get(
    '/audit/keys',
    {
      config: { public: true },
      schema: {
        response: {
          200: Type.Array(
            Type.Object({ keyId: Type.String(), alg: Type.Literal('Ed25519'), publicKeyPem: Type.String() }),
          ),
        },
      },
    },
    async () => listKeys(db, ledger.signingKey),
  );

  app.get<{ Params: Static<typeof ProofParams>; Querystring: Static<typeof ProofQuery> }>(
    '/audit/entries/:seq/proof',
    {
      config: ANY_ROLE,
      schema: {
        params: ProofParams,
        querystring: ProofQuery,
        response: {
          200: Type.Object({
            leafIndex: Type.Integer(),
            treeSize: Type.Integer(),
            leafHash: Hex,
            auditPath: Type.Array(Hex),
          }),
        },
      },
    },
    async (request) => {
      const { seq } = request.params;
      const head = await treeSize(db);
      if (seq > head) throw new AppError('not_found', 'No such entry.');
      const size = request.query.treeSize ?? (await latestCheckpoint(db))?.treeSize ?? head;
      if (size > head) throw badQuery('treeSize', 'is beyond the current tree size');
      if (seq > size) throw badQuery('treeSize', 'must be at least seq');
      return inclusionProof(db, seq, size);
    },
  );

  app.get<{ Querystring: Static<typeof ConsistencyQuery> }>(
    '/audit/consistency',
    {
      config: ANY_ROLE,
      schema: {
        querystring: ConsistencyQuery,
        response: {
          200: Type.Object({ from: Type.Integer(), to: Type.Integer(), proof: Type.Array(Hex) }),
        },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      if (from > to) throw badQuery('from', 'must not be greater than to');
      if (to > (await treeSize(db))) throw badQuery('to', 'is beyond the current tree size');
      const proof = await consistencyProof(db, from, to);
      return { from, to, proof: proof.consistency };
    },
  );

  await app.register(textsRoute, { ledger, texts: opts.texts, policyVersion });
  await app.register(verifyRoute, { ledger, readWaitMs });
};
