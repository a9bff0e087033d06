import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { validityBound } from '../calendar/index.js';
import { AppError, conflict, type FieldError, notFound } from '../http/errors.js';
import { DateOrDateTime, isUuid, stringEnum } from '../http/schema.js';
import {
  checkSubjectInto,
  identifiersOf,
  nhsNumberProblem,
  normaliseNhsNumber,
  SubjectSchema,
} from '../http/subject.js';
import { AGENCY_KINDS, actorOf, practiceRoles, practitionerOf } from '../identity/index.js';
import {
  type Ledger,
  type LedgerEntryInput,
  type OutboxEventInput,
  recordedTransaction,
} from '../ledger/index.js';
import { CATEGORY_NAMES, type PolicySource, PURPOSES } from '../policy/index.js';
import type { RegistryView } from '../registry/index.js';
import type { Db } from '../store/index.js';
import {
  type ConsentRecord,
  findConsent,
  insertConsent,
  isParty,
  listConsents,
  partiesOf,
  withdrawConsent,
} from './records.js';

export interface ConsentRoutesOptions {
  db: Db;
  ledger: Ledger;
  policies: PolicySource;
  registry: RegistryView;
}

const RELATIONSHIPS = ['self', 'parent', 'person_with_parental_responsibility', 'guardian'] as const;
const STATUSES = ['given', 'refused'] as const;
const GivenBy = Type.Object(
  {
    relationship: stringEnum(RELATIONSHIPS),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

const RecordBody = Type.Object(
  {
    subject: SubjectSchema,
    givenBy: GivenBy,
    status: stringEnum(STATUSES),
    purposes: Type.Array(stringEnum(PURPOSES), { minItems: 1, maxItems: PURPOSES.length, uniqueItems: true }),
    agencies: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
        minItems: 1,
        maxItems: 200,
        uniqueItems: true,
      }),
    ),
    categories: Type.Optional(
      Type.Array(stringEnum(CATEGORY_NAMES), {
        minItems: 1,
        maxItems: CATEGORY_NAMES.length,
        uniqueItems: true,
      }),
    ),
    validFrom: DateOrDateTime,
    validTo: Type.Optional(DateOrDateTime),
    evidence: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
type RecordBodyT = Static<typeof RecordBody>;

const ListQuery = Type.Object(
  { nhsNumber: SubjectSchema.properties.nhsNumber, pncId: SubjectSchema.properties.pncId },
  { additionalProperties: false },
);
type ListQueryT = Static<typeof ListQuery>;

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
type IdParamsT = Static<typeof IdParams>;

const WithdrawBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
type WithdrawBodyT = Static<typeof WithdrawBody>;

const ConsentView = Type.Object({
  id: Type.String(),
  subject: SubjectSchema,
  givenBy: GivenBy,
  status: stringEnum(STATUSES),
  purposes: Type.Array(Type.String()),
  agencies: Type.Optional(Type.Array(Type.String())),
  categories: Type.Optional(Type.Array(Type.String())),
  validFrom: Type.String(),
  validTo: Type.Optional(Type.String()),
  evidence: Type.String(),
  recordedBy: Type.Object({ agency: Type.String() }),
  recordedAt: Type.String(),
  withdrawn: Type.Optional(
    Type.Object({ at: Type.String(), reason: Type.String(), byAgency: Type.String() }),
  ),
  active: Type.Boolean(),
});
type ConsentViewT = Static<typeof ConsentView>;

const RecordReply = Type.Object({ id: Type.String() });
const WithdrawReply = Type.Object({
  id: Type.String(),
  status: Type.Literal('withdrawn'),
  withdrawnAt: Type.String(),
});

/** Everyone who acts on cases, in every kind of agency: not the auditor, not the agency_admin. */
const PRACTICE_ROLES = [...new Set(AGENCY_KINDS.flatMap((k) => practiceRoles(k)))];

const invalid = (errors: FieldError[]) =>
  new AppError('validation_failed', 'The request is not valid.', { errors });

/**
 * The parties of a record other than the actor, as its ledger entries name them so that every party's
 * auditor sees them: `counterparts` lists them all; `counterpart` is the recorder when another party
 * acts, or the one agency a recorder named. A record that names no agency concerns every agency, but its
 * entries do not name them all (every consent would stand in every auditor's trail): the recorder's
 * auditor sees it, and an agency it decides for sees its id on the entries of that decision.
 */
function partiesBesides(r: Pick<ConsentRecord, 'recordedBy' | 'agencies'>, actor: string) {
  const parties = partiesOf(r);
  const others = parties === '*' ? [] : parties.filter((a) => a !== actor);
  if (parties === '*' && r.recordedBy.agency !== actor) others.push(r.recordedBy.agency);
  const counterpart =
    r.recordedBy.agency !== actor ? r.recordedBy.agency : others.length === 1 ? others[0] : undefined;
  return { ...(counterpart ? { counterpart } : {}), ...(others.length > 0 ? { counterparts: others } : {}) };
}

/** A record as the agencies it concerns see it (the subject as checkSubject normalised it on the way in). */
function viewOf(r: ConsentRecord, now: number): ConsentViewT {
  return { ...r, active: isActive(r, now) };
}

/** In force now: not withdrawn, and validFrom ≤ now < validTo (the bounds consentCoverage uses). */
function isActive(r: ConsentRecord, now: number): boolean {
  if (r.withdrawn) return false;
  if (Date.parse(r.validFrom) > now) return false;
  return r.validTo === undefined || Date.parse(r.validTo) > now;
}

/**
 * The consent registry (contract section 8): record, read by exact identifier, withdraw. Every change
 * and every read that returns a record is ledgered in the same transaction (fail closed: 503).
 *
 * A ledger entry has one `purpose`, a consent record several: the record and its withdrawal are
 * ledgered as one entry per purpose, so that every entry states its purpose as the contract shows it and
 * an auditor's subject report says what the consent was for. A read states no purpose; it is ledgered
 * once per agency whose records it returned, with that agency as counterpart when it is not the reader,
 * so that the recording agency's auditor sees who read its consent records.
 */
export async function consentRoutes(app: FastifyInstance, opts: ConsentRoutesOptions): Promise<void> {
  const { db, ledger, policies, registry } = opts;
  const config = { roles: PRACTICE_ROLES };

  app.post<{ Body: RecordBodyT }>(
    '/v1/consents',
    { config, schema: { body: RecordBody, response: { 201: RecordReply } } },
    async (request, reply) => {
      const me = practitionerOf(request);
      const body = request.body;
      const errors: FieldError[] = [];
      const subject = checkSubjectInto(errors, body.subject, '/subject');
      if (body.subject.nhsNumber === undefined && body.subject.pncId === undefined) {
        errors.push({
          path: '/subject',
          message:
            'a consent needs nhsNumber or pncId: it is applied by exact identifier only, never by name and date of birth',
        });
      }
      body.agencies?.forEach((id, i) => {
        if (!registry.agency(id))
          errors.push({ path: `/agencies/${i}`, message: 'is not a registered agency' });
      });
      const validFrom = validityBound(body.validFrom, 'from');
      const validTo = body.validTo === undefined ? undefined : validityBound(body.validTo, 'to');
      if (!validFrom) errors.push({ path: '/validFrom', message: 'is not a real date or time' });
      if (body.validTo !== undefined && !validTo) {
        errors.push({ path: '/validTo', message: 'is not a real date or time' });
      } else if (validFrom && validTo && Date.parse(validTo) <= Date.parse(validFrom)) {
        errors.push({ path: '/validTo', message: 'must be after validFrom' });
      }
      if (errors.length > 0) throw invalid(errors);

      const policyVersion = policies.current().version;
      const id = await recordedTransaction(db, async (tx) => {
        const consentId = await insertConsent(tx, {
          ...(subject.nhsNumber ? { nhsNumber: subject.nhsNumber } : {}),
          ...(subject.pncId ? { pncId: subject.pncId } : {}),
          subject,
          givenBy: body.givenBy,
          status: body.status,
          purposes: body.purposes,
          ...(body.agencies ? { agencies: body.agencies } : {}),
          ...(body.categories ? { categories: body.categories } : {}),
          validFrom: validFrom as string,
          ...(validTo ? { validTo } : {}),
          evidence: body.evidence,
          recordedBy: { agency: me.agency, sub: me.sub },
        });
        const parties = partiesBesides(
          { recordedBy: { agency: me.agency }, ...(body.agencies ? { agencies: body.agencies } : {}) },
          me.agency,
        );
        const entries: LedgerEntryInput[] = body.purposes.map((purpose) => ({
          action: 'consent.recorded',
          actor: actorOf(me),
          ...parties,
          consentId,
          subject: identifiersOf(subject),
          purpose,
          consent: body.status,
          decision: 'permit',
          ruleIds: [],
          policyVersion,
          ...(body.categories ? { categories: body.categories } : {}),
        }));
        await ledger.append(tx, { entries });
        return consentId;
      });
      reply.code(201).header('location', `/v1/consents/${id}`);
      return { id };
    },
  );

  app.get<{ Querystring: ListQueryT }>(
    '/v1/consents',
    { config, schema: { querystring: ListQuery, response: { 200: Type.Array(ConsentView) } } },
    async (request) => {
      const me = practitionerOf(request);
      const q = request.query;
      if ((q.nhsNumber === undefined) === (q.pncId === undefined)) {
        throw invalid([{ path: 'querystring:/', message: 'give exactly one of nhsNumber and pncId' }]);
      }
      let by: { nhsNumber: string } | { pncId: string };
      if (q.nhsNumber !== undefined) {
        const nhsNumber = normaliseNhsNumber(q.nhsNumber);
        const problem = nhsNumberProblem(nhsNumber);
        if (problem) throw invalid([{ path: 'querystring:/nhsNumber', message: problem }]);
        by = { nhsNumber };
      } else {
        by = { pncId: (q.pncId as string).toUpperCase() };
      }
      const policyVersion = policies.current().version;
      const records = await recordedTransaction(db, async (tx) => {
        const found = (await listConsents(tx, by)).filter((r) => isParty(r, me.agency));
        if (found.length > 0) {
          const recorders = [...new Set(found.map((r) => r.recordedBy.agency))];
          await ledger.append(tx, {
            entries: recorders.map((agency) => ({
              action: 'consent.viewed',
              actor: actorOf(me),
              ...(agency !== me.agency ? { counterpart: agency } : {}),
              subject: by,
              decision: 'permit',
              ruleIds: [],
              policyVersion,
            })),
          });
        }
        return found;
      });
      const now = Date.now();
      // The stored subject is the one checkSubject normalised on the way in.
      return records.map((r) => viewOf(r, now));
    },
  );

  app.post<{ Params: IdParamsT; Body: WithdrawBodyT }>(
    '/v1/consents/:id/withdraw',
    {
      config,
      schema: { params: IdParams, body: WithdrawBody, response: { 200: WithdrawReply } },
    },
    async (request) => {
      const me = practitionerOf(request);
      const { id } = request.params;
      if (!isUuid(id)) throw notFound();
      const policyVersion = policies.current().version;
      return recordedTransaction(db, async (tx) => {
        const record = await findConsent(tx, id);
        // Only an agency the consent concerns may withdraw it; to any other it does not exist.
        if (!record || !isParty(record, me.agency)) throw notFound();
        if (record.withdrawn || !(await withdrawConsent(tx, id, request.body.reason, me.agency))) {
          throw conflict('The consent is already withdrawn.');
        }
        const withdrawn = (await findConsent(tx, id))?.withdrawn;
        if (!withdrawn) throw new Error('the withdrawal did not take');
        const entries: LedgerEntryInput[] = record.purposes.map((purpose) => ({
          action: 'consent.withdrawn',
          actor: actorOf(me),
          ...partiesBesides(record, me.agency),
          consentId: id,
          subject: identifiersOf(record.subject),
          purpose,
          // What the consent is now; the record keeps what it was.
          consent: 'withdrawn',
          decision: 'permit',
          ruleIds: [],
          policyVersion,
          ...(record.categories ? { categories: record.categories } : {}),
        }));
        // The recording agency and every agency the consent names, once each; not the one withdrawing.
        const recipients = new Set([record.recordedBy.agency, ...(record.agencies ?? [])]);
        recipients.delete(me.agency);
        const events: OutboxEventInput[] = [...recipients].map((agency) => ({
          agency,
          type: 'consent.withdrawn',
          data: { consentId: id, withdrawnAt: withdrawn.at, byAgency: me.agency },
          inbox: { kind: 'event', ref: id },
        }));
        await ledger.append(tx, { entries, events });
        return { id, status: 'withdrawn' as const, withdrawnAt: withdrawn.at };
      });
    },
  );
}
