import { randomUUID } from 'node:crypto';
import { respondBy as respondByRule, UnsupportedYearError, type Within } from '../../calendar/index.js';
import { AppError, type DenialReason } from '../../http/errors.js';
import { checkSubject, identifiersOf } from '../../http/subject.js';
import { actorOf, type Practitioner } from '../../identity/index.js';
import { type LedgerEntryInput, type OutboxEventInput, recordedTransaction } from '../../ledger/index.js';
import { unique } from '../unique.js';
import { consentRecordsOf, decideNow, overallConsent, refusalsOf } from './decision.js';
import type { CreateRequestBodyT } from './schemas.js';
import type { RequestServiceDeps } from './service.js';
import { insertRequest } from './store.js';

/** How far ahead a requester may set its own deadline. */
const MAX_RESPOND_BY_MS = 366 * 24 * 3600 * 1000;

/**
 * The consent record that decided, and, when the requester named another record, a notice that it
 * was not the one applied (contract section 8: the most recent applicable record decides).
 */
function consentRecordOf(
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
function requestedDeadline(respondBy: string | undefined, now: Date): Date | undefined {
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
function ruleDeadline(deps: RequestServiceDeps, within: Within | undefined, now: Date): Date {
  try {
    return respondByRule(now, within ?? { workingDays: deps.defaultRespondWorkingDays });
  } catch (err) {
    if (err instanceof UnsupportedYearError) {
      throw new AppError('dependency_unavailable', 'The working-day calendar does not cover this date.');
    }
    throw err;
  }
}

/**
 * POST /v1/requests (contract section 6): decided per category (policy, then consent) in the same
 * transaction that stores the request and its ledger entries; a request nothing was granted for is a
 * refusal, ledgered and committed before the caller hears 403.
 */
export async function createRequest(deps: RequestServiceDeps, p: Practitioner, body: CreateRequestBodyT) {
  const holder = deps.registry.activeAgency(body.to);
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
  const requested = requestedDeadline(body.respondBy, now);
  const base = {
    actor: actorOf(p),
    counterpart: holder.id,
    subject: identifiersOf(subject),
    purpose: body.purpose,
    ...(body.caseReference ? { caseReference: body.caseReference } : {}),
  };

  return recordedTransaction(deps.db, async (tx) => {
    const decided = await decideNow(deps.policies, tx, {
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
      await deps.ledger.append(tx, { entries: [refusalEntry()] });
      return { refusal: refused };
    }

    const id = randomUUID();
    const respondBy = requested ?? ruleDeadline(deps, decision.respondWithin, now);
    const consentOutcome = overallConsent(permitted);
    const consentRecord = consentRecordOf(
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
    await deps.ledger.append(tx, { entries, events });
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
