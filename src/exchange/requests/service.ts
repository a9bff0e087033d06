import { AppError, type FieldError, notFound } from '../../http/errors.js';
import { isUuid } from '../../http/schema.js';
import { identifiersOf } from '../../http/subject.js';
import { actorOf, type Practitioner } from '../../identity/index.js';
import { commitText, type Ledger, type LedgerEntryInput, recordedTransaction } from '../../ledger/index.js';
import { type PolicySource, validateCategoryPayload } from '../../policy/index.js';
import type { RegistryView } from '../../registry/index.js';
import type { Db, Queryable } from '../../store/index.js';
import { unique } from '../unique.js';
import { createRequest } from './create.js';
import { consentRecordsOf, decideNow, overallConsent, releaseOf } from './decision.js';
import type { CreateRequestBodyT, DeclineBodyT, RequestViewT, RespondBodyT } from './schemas.js';
import { type FieldMap, findRequest, type InfoRequest, recordDecline, recordResponse } from './store.js';
import { viewOf } from './view.js';

export interface RequestServiceDeps {
  db: Db;
  ledger: Ledger;
  policies: PolicySource;
  registry: RegistryView;
  /** Used when no matching rule sets respondWithin. */
  defaultRespondWorkingDays: number;
}

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

  create(p: Practitioner, body: CreateRequestBodyT) {
    return createRequest(this.deps, p, body);
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
      const view = viewOf(r, isHolder, new Date());
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
