import { randomUUID } from 'node:crypto';
import { respondBy as respondByRule, UnsupportedYearError, type Within } from '../../calendar/index.js';
import { AppError, type DenialReason, type FieldError, notFound } from '../../http/errors.js';
import { isUuid } from '../../http/schema.js';
import { checkSubject, identifiersOf } from '../../http/subject.js';
import { actorOf, type Practitioner } from '../../identity/index.js';
import {
  commitText,
  type Ledger,
  type LedgerEntryInput,
  type OutboxEventInput,
  recordedTransaction,
} from '../../ledger/index.js';
import { type PolicySource, validateCategoryPayload } from '../../policy/index.js';
import type { RegistryView } from '../../registry/index.js';
import type { Db, Queryable } from '../../store/index.js';
import { consentRecordsOf, decideNow, overallConsent, refusalsOf, releaseOf } from './decision.js';
import type {
  CreateRequestBodyT,
  DeclineBodyT,
  RequestStatus,
  RequestViewT,
  RespondBodyT,
} from './schemas.js';
import {
  type FieldMap,
  findRequest,
  type InfoRequest,
  insertRequest,
  recordDecline,
  recordResponse,
} from './store.js';

export interface RequestServiceDeps {
  db: Db;
  ledger: Ledger;
  policies: PolicySource;
  registry: RegistryView;
  /** Used when no matching rule sets respondWithin. */
  defaultRespondWorkingDays: number;
}

/** How far ahead a requester may set its own deadline. */
const MAX_RESPOND_BY_MS = 366 * 24 * 3600 * 1000;

const unique = (xs: Iterable<string>) => [...new Set(xs)];

/** What every entry about an existing request says: who acts, towards whom, about whom, for what. */
function aboutRequest(r: InfoRequest, p: Practitioner, policyVersion: string) {
  return {
    actor: actorOf(p),
    counterpart: p.agency === r.toAgency ? r.fromAgency : r.toAgency,
    requestId: r.id,
    ...(r.caseReference ? { caseReference: r.caseReference } : {}),
    subject: identifiersOf(r.subject),
    purpose: r.purpose,
    policyVersion,
  };
}

function statusOf(r: InfoRequest, now: Date): RequestStatus {
  if (r.status === 'awaiting_response' && r.respondBy.getTime() < now.getTime()) return 'overdue';
  return r.status;
}

export class RequestService {
  constructor(private readonly deps: RequestServiceDeps) {}

  /** decideNow for a stored request, as `role` of the requesting agency would get it. */
  private redecide(tx: Queryable, r: InfoRequest, role: string, categories: readonly string[]) {
    return decideNow(this.deps.policies, tx, {
      requesterAgency: r.fromAgency,
      requesterKind: r.fromKind,
      role,
      holder: { id: r.toAgency, kind: r.toKind },
      purpose: r.purpose,
      subject: r.subject,
      categories,
      claim: r.consentClaim,
      override: r.override?.reason,
    });
  }

  /**
   * The consent record that decided, and, when the requester named another record, a notice that it
   * was not the one applied (contract section 8: the most recent applicable record decides).
   */
  private consentRecord(
    decidingId: string | undefined,
    namedId: string | undefined,
  ): { consentRecordId?: string; consentNotice?: string } {
    const out: { consentRecordId?: string; consentNotice?: string } = decidingId
      ? { consentRecordId: decidingId }
      : {};
    if (namedId !== undefined && namedId !== decidingId) {
      out.consentNotice = decidingId
        ? `the consent record named is not the most recent applicable record; decided on ${decidingId}`
        : 'the consent record named does not apply to this request; decided without it';
    }
    return out;
  }

  /** A requester's own deadline: in the future and within a year. Checked before anything is decided. */
  private requestedDeadline(respondBy: string | undefined, now: Date): Date | undefined {
    if (respondBy === undefined) return undefined;
    const at = new Date(respondBy);
    let message: string | undefined;
    if (Number.isNaN(at.getTime()) || at.getTime() <= now.getTime()) message = 'must be a time in the future';
    else if (at.getTime() - now.getTime() > MAX_RESPOND_BY_MS) message = 'must be within a year';
    if (message) {
      throw new AppError('validation_failed', 'The request is not valid.', {
        errors: [{ path: '/respondBy', message }],
      });
    }
    return at;
  }

  /** The strictest matching rule's respondWithin, or the configured default, in working days. */
  private ruleDeadline(within: Within | undefined, now: Date): Date {
    try {
      return respondByRule(now, within ?? { workingDays: this.deps.defaultRespondWorkingDays });
    } catch (err) {
      if (err instanceof UnsupportedYearError) {
        throw new AppError('dependency_unavailable', 'The working-day calendar does not cover this date.');
      }
      throw err;
    }
  }

  async create(p: Practitioner, body: CreateRequestBodyT) {
    const holder = this.deps.registry.activeAgency(body.to);
    if (!holder) {
      throw new AppError('validation_failed', 'The request is not valid.', {
        errors: [{ path: '/to', message: 'is not an active agency' }],
      });
    }
    if (holder.id === p.agency) {
      throw new AppError('validation_failed', 'The request is not valid.', {
        errors: [{ path: '/to', message: 'must be another agency than your own' }],
      });
    }
    const subject = checkSubject(body.subject, '/subject');
    const relatedChildren = body.relatedChildren?.map((c, i) => checkSubject(c, `/relatedChildren/${i}`));
    const now = new Date();
    const requested = this.requestedDeadline(body.respondBy, now);
    const base = {
      actor: actorOf(p),
      counterpart: holder.id,
      subject: identifiersOf(subject),
      purpose: body.purpose,
      ...(body.caseReference ? { caseReference: body.caseReference } : {}),
    };

    return recordedTransaction(this.deps.db, async (tx) => {
      const decided = await decideNow(this.deps.policies, tx, {
        requesterAgency: p.agency,
        requesterKind: p.kind,
        role: p.role,
        holder,
        purpose: body.purpose,
        subject,
        categories: body.categories,
        claim: body.consent,
        override: body.override?.reason,
      });
      const { decision } = decided;
      const refused = refusalsOf(decision.categories);
      const denied = decision.categories.filter((d) => d.decision === 'deny');
      const permitted = decision.categories.filter((d) => d.decision === 'permit');
      const refusalEntry = (requestId?: string): LedgerEntryInput => ({
        ...base,
        action: 'request.refused',
        ...(requestId ? { requestId } : {}),
        decision: 'deny',
        ruleIds: unique(denied.flatMap((d) => d.ruleIds)),
        policyVersion: decision.policyVersion,
        categories: denied.map((d) => d.category),
        ...consentRecordsOf(
          decided,
          denied.map((d) => d.category),
        ),
      });

      if (permitted.length === 0) {
        // The refusal is a record too (golden rule 7): it commits before the caller hears 403.
        await this.deps.ledger.append(tx, { entries: [refusalEntry()] });
        return { refusal: refused };
      }

      const id = randomUUID();
      const respondBy = requested ?? this.ruleDeadline(decision.respondWithin, now);
      const consentOutcome = overallConsent(permitted);
      const consentRecord = this.consentRecord(
        consentRecordsOf(
          decided,
          permitted.map((d) => d.category),
        ).consentId,
        body.consent?.consentId,
      );
      const overridden = permitted.filter((d) => d.consentStatus?.status === 'overridden');
      await insertRequest(tx, {
        id,
        fromAgency: p.agency,
        fromKind: p.kind,
        fromSub: p.sub,
        fromRole: p.role,
        toAgency: holder.id,
        toKind: holder.kind,
        purpose: body.purpose,
        subject,
        ...(relatedChildren ? { relatedChildren } : {}),
        categories: body.categories,
        granted: decision.granted,
        refused,
        lawfulBasis: decision.lawfulBasis,
        consent: consentOutcome,
        ...consentRecord,
        ...(body.consent ? { consentClaim: body.consent } : {}),
        ...(body.override ? { override: body.override } : {}),
        justification: body.justification,
        ...(body.caseReference ? { caseReference: body.caseReference } : {}),
        respondBy,
        status: 'awaiting_response',
        policyVersion: decision.policyVersion,
        createdAt: now,
      });
      const entries: LedgerEntryInput[] = [
        {
          ...base,
          action: 'request.created',
          requestId: id,
          lawfulBasis: decision.lawfulBasis,
          consent: consentOutcome.status,
          ...consentRecordsOf(decided, decision.granted),
          decision: 'permit',
          ruleIds: unique(permitted.flatMap((d) => d.ruleIds)),
          policyVersion: decision.policyVersion,
          categories: decision.granted,
        },
      ];
      if (denied.length > 0) entries.push(refusalEntry(id));
      // The related children's details go to the holder too: each is findable in the ledger by its own
      // identifiers (a subject report on a sibling shows this request).
      for (const child of relatedChildren ?? []) {
        entries.push({
          ...base,
          subject: identifiersOf(child),
          action: 'request.related_child',
          requestId: id,
          decision: 'permit',
          ruleIds: unique(permitted.flatMap((d) => d.ruleIds)),
          policyVersion: decision.policyVersion,
          categories: decision.granted,
        });
      }
      const events: OutboxEventInput[] = [
        {
          agency: holder.id,
          type: 'request.received',
          data: {
            requestId: id,
            from: p.agency,
            purpose: body.purpose,
            categories: decision.granted,
            respondBy: respondBy.toISOString(),
          },
          inbox: { kind: 'request', ref: id, dueBy: respondBy.toISOString() },
        },
      ];
      if (overridden.length > 0 && body.override) {
        entries.push({
          ...base,
          action: 'consent.overridden',
          requestId: id,
          lawfulBasis: unique(overridden.flatMap((d) => d.lawfulBasis)),
          consent: 'overridden',
          decision: 'permit',
          ruleIds: unique(overridden.flatMap((d) => d.ruleIds)),
          policyVersion: decision.policyVersion,
          categories: overridden.map((d) => d.category),
          reason: body.override.reason,
        });
        events.push({
          agency: holder.id,
          type: 'consent.overridden',
          data: {
            requestId: id,
            from: p.agency,
            purpose: body.purpose,
            categories: overridden.map((d) => d.category),
            overrideReason: body.override.reason,
            occurredAt: now.toISOString(),
          },
          inbox: { kind: 'event', ref: id },
        });
      }
      await this.deps.ledger.append(tx, { entries, events });
      return {
        created: {
          id,
          status: 'awaiting_response' as const,
          respondBy: respondBy.toISOString(),
          granted: decision.granted,
          refused,
          lawfulBasis: decision.lawfulBasis,
          consent: consentOutcome,
          ...consentRecord,
          policyVersion: decision.policyVersion,
          ...(body.caseReference ? { caseReference: body.caseReference } : {}),
        },
      };
    }).then((result) => {
      if (result.refusal) {
        const code = result.refusal.some((r) => r.code === 'consent_required')
          ? 'consent_required'
          : 'policy_denied';
        const reasons: DenialReason[] = result.refusal.map((r) => ({
          category: r.category,
          ...(r.ruleId ? { ruleId: r.ruleId } : {}),
          message: r.message,
        }));
        throw new AppError(
          code,
          code === 'consent_required'
            ? 'No category can be shared without a consent that covers it.'
            : 'No policy permits sharing any of the categories asked for.',
          { reasons },
        );
      }
      return result.created;
    });
  }

  /** The request if the caller's agency is a party to it; 404 otherwise, so existence never leaks. */
  private async visible(tx: Queryable, p: Practitioner, id: string, forUpdate = false) {
    if (!isUuid(id)) throw notFound();
    const r = await findRequest(tx, id, forUpdate);
    if (!r || (r.fromAgency !== p.agency && r.toAgency !== p.agency)) throw notFound();
    return r;
  }

  async read(p: Practitioner, id: string): Promise<RequestViewT> {
    return recordedTransaction(this.deps.db, async (tx) => {
      const r = await this.visible(tx, p, id);
      const isHolder = r.toAgency === p.agency;
      const view = this.view(r, isHolder);
      const releasedCategories = Object.keys(r.released ?? {});
      if (isHolder || r.status !== 'responded' || releasedCategories.length === 0) return view;

      // Each read is a disclosure to this practitioner, decided for this practitioner: another role of
      // the requesting agency sees only what the policy gives that role, and a consent withdrawn or a
      // rule changed since the release counts now.
      const decided = await this.redecide(tx, r, p.role, releasedCategories);
      const { decision, byCategory } = decided;
      const data: Record<string, unknown> = {};
      const fields: FieldMap = {};
      for (const category of releasedCategories) {
        const shown = releaseOf(byCategory.get(category), r.responseData?.[category]);
        if (!shown.shown) continue;
        data[category] = shown.released;
        // In the order recorded at release (the stored copy's key order is PostgreSQL's, not the payload's).
        fields[category] = (r.released?.[category] ?? []).filter((f) => shown.releasedPaths.includes(f));
      }
      if (view.response) view.response.data = data;
      const shownDecisions = Object.keys(fields).map((c) => byCategory.get(c)!);
      await this.deps.ledger.append(tx, {
        entries: [
          {
            ...aboutRequest(r, p, decision.policyVersion),
            // A read that shows nothing is a refusal, and a record too.
            action: shownDecisions.length > 0 ? 'disclosure.viewed' : 'disclosure.refused',
            lawfulBasis: unique(shownDecisions.flatMap((d) => d.lawfulBasis)),
            ...(shownDecisions.length > 0 ? { consent: overallConsent(shownDecisions).status } : {}),
            ...consentRecordsOf(decided, releasedCategories),
            decision: shownDecisions.length > 0 ? 'permit' : 'deny',
            ruleIds: unique(decision.categories.flatMap((d) => d.ruleIds)),
            fields,
            categories: Object.keys(fields),
          },
        ],
      });
      return view;
    });
  }

  private view(r: InfoRequest, isHolder: boolean): RequestViewT {
    const v: RequestViewT = {
      id: r.id,
      status: statusOf(r, new Date()),
      from: r.fromAgency,
      to: r.toAgency,
      purpose: r.purpose,
      subject: r.subject,
      categories: r.categories,
      granted: r.granted,
      refused: r.refused,
      lawfulBasis: r.lawfulBasis,
      consent: r.consent,
      ...(r.consentRecordId ? { consentRecordId: r.consentRecordId } : {}),
      ...(r.consentNotice ? { consentNotice: r.consentNotice } : {}),
      justification: r.justification,
      respondBy: r.respondBy.toISOString(),
      createdAt: r.createdAt.toISOString(),
    };
    if (r.relatedChildren) v.relatedChildren = r.relatedChildren;
    if (r.override) v.override = r.override;
    if (r.caseReference) v.caseReference = r.caseReference;
    if (r.status === 'responded' && r.respondedAt) {
      v.response = {
        data: r.responseData ?? {},
        respondedAt: r.respondedAt.toISOString(),
        ...(r.withheld ? { withheld: r.withheld.map(({ category, reason }) => ({ category, reason })) } : {}),
        ...(isHolder ? { released: r.released ?? {}, withheldByPolicy: r.withheldByPolicy ?? {} } : {}),
      };
    }
    if (r.status === 'declined' && r.declinedAt) {
      v.decline = { reason: r.declineReason ?? '', declinedAt: r.declinedAt.toISOString() };
    }
    return v;
  }

  /** The holder's own request, locked; 403 for the requester (who knows it exists), 409 once answered. */
  private async forHolder(tx: Queryable, p: Practitioner, id: string): Promise<InfoRequest> {
    const r = await this.visible(tx, p, id, true);
    if (r.toAgency !== p.agency) {
      throw new AppError('forbidden', 'Only the agency asked may answer this request.');
    }
    if (r.status !== 'awaiting_response') {
      throw new AppError('conflict', `The request has already been ${r.status}.`);
    }
    return r;
  }

  async respond(p: Practitioner, id: string, body: RespondBodyT) {
    const errors: FieldError[] = [];
    const data = body.data as Record<string, unknown>;
    for (const [category, payload] of Object.entries(data)) {
      for (const e of validateCategoryPayload(category, payload)) {
        errors.push({ path: `/data/${category}${e.path === '/' ? '' : e.path}`, message: e.message });
      }
    }
    (body.withheld ?? []).forEach((w, i) => {
      if (Object.hasOwn(data, w.category)) {
        errors.push({ path: `/withheld/${i}/category`, message: 'is also answered in data' });
      }
    });
    if (errors.length > 0) throw new AppError('validation_failed', 'The response is not valid.', { errors });

    return recordedTransaction(this.deps.db, async (tx) => {
      const r = await this.forHolder(tx, p, id);
      const withheldErrors = (body.withheld ?? [])
        .map((w, i) => ({ w, i }))
        .filter(({ w }) => !r.granted.includes(w.category))
        .map(({ i }) => ({ path: `/withheld/${i}/category`, message: 'was not granted in this request' }));
      if (withheldErrors.length > 0) {
        throw new AppError('validation_failed', 'The response is not valid.', { errors: withheldErrors });
      }
      // Decided again at release: a consent withdrawn or a rule changed since the request counts now.
      const answered = Object.keys(data).filter((c) => r.granted.includes(c));
      const decided = await this.redecide(tx, r, r.fromRole, answered);
      const { decision, byCategory } = decided;

      const released: FieldMap = {};
      const withheldByPolicy: FieldMap = {};
      const out: Record<string, unknown> = {};
      for (const [category, payload] of Object.entries(data)) {
        const filtered = releaseOf(byCategory.get(category), payload);
        if (filtered.shown) {
          out[category] = filtered.released;
          released[category] = filtered.releasedPaths;
        }
        if (filtered.withheldPaths.length > 0) withheldByPolicy[category] = filtered.withheldPaths;
      }
      const now = new Date();
      // A holder's reasons are free text: the record keeps them with their salts, the ledger commitments.
      const withheld = body.withheld?.map((w) => ({ category: w.category, ...commitText(w.reason) }));
      await recordResponse(tx, r.id, {
        at: now,
        bySub: p.sub,
        data: out,
        released,
        withheldByPolicy,
        ...(withheld
          ? { withheld: withheld.map(({ category, text, salt }) => ({ category, reason: text, salt })) }
          : {}),
      });
      const releasedDecisions = Object.keys(released).map((c) => byCategory.get(c)!);
      const policyDenied = Object.keys(withheldByPolicy).filter((c) => !released[c]);
      const base = aboutRequest(r, p, decision.policyVersion);
      const entries: LedgerEntryInput[] = [
        {
          ...base,
          action: 'response.released',
          lawfulBasis: unique(releasedDecisions.flatMap((d) => d.lawfulBasis)),
          // Nothing released rests on no consent basis: overallConsent([]) would say `not_required`.
          ...(releasedDecisions.length > 0 ? { consent: overallConsent(releasedDecisions).status } : {}),
          ...consentRecordsOf(decided, answered),
          decision: 'permit',
          ruleIds: unique(releasedDecisions.flatMap((d) => d.ruleIds)),
          fields: released,
          categories: Object.keys(released),
        },
      ];
      if (policyDenied.length > 0) {
        entries.push({
          ...base,
          action: 'response.withheld',
          decision: 'deny',
          ruleIds: unique(policyDenied.flatMap((c) => byCategory.get(c)?.ruleIds ?? [])),
          categories: policyDenied,
        });
      }
      // The holder's own decisions not to share a category are records too, each with its reason's commitment.
      for (const w of withheld ?? []) {
        entries.push({
          ...base,
          action: 'response.withheld',
          decision: 'deny',
          ruleIds: [],
          categories: [w.category],
          commitments: { reason: w.commitment },
        });
      }
      await this.deps.ledger.append(tx, {
        entries,
        events: [
          {
            agency: r.fromAgency,
            type: 'request.responded',
            data: { requestId: r.id, to: r.toAgency, respondedAt: now.toISOString() },
            inbox: { kind: 'event', ref: r.id },
          },
        ],
      });
      return { status: 'responded' as const, released, withheldByPolicy };
    });
  }

  async decline(p: Practitioner, id: string, body: DeclineBodyT) {
    return recordedTransaction(this.deps.db, async (tx) => {
      const r = await this.forHolder(tx, p, id);
      const now = new Date();
      const reason = commitText(body.reason);
      await recordDecline(tx, r.id, { at: now, bySub: p.sub, reason: reason.text, salt: reason.salt });
      await this.deps.ledger.append(tx, {
        entries: [
          {
            ...aboutRequest(r, p, this.deps.policies.current().version),
            action: 'request.declined',
            decision: 'deny',
            ruleIds: [],
            categories: r.granted,
            commitments: { reason: reason.commitment },
          },
        ],
        events: [
          {
            agency: r.fromAgency,
            type: 'request.declined',
            data: { requestId: r.id, to: r.toAgency, declinedAt: now.toISOString() },
            inbox: { kind: 'event', ref: r.id },
          },
        ],
      });
      return { id: r.id, status: 'declined' as const };
    });
  }
}
