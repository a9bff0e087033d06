import { randomUUID } from 'node:crypto';
import { acknowledgeBy as acknowledgeByRule, UnsupportedYearError } from '../../calendar/index.js';
import { AppError, conflict, forbidden, notFound } from '../../http/errors.js';
import { isUuid } from '../../http/schema.js';
import { checkSubject, identifiersOf } from '../../http/subject.js';
import { actorOf, type Practitioner } from '../../identity/index.js';
import { commitText, type Ledger, type LedgerEntryInput, recordedTransaction } from '../../ledger/index.js';
import type { PolicySource } from '../../policy/index.js';
import type { RegistryView } from '../../registry/index.js';
import type { Db, Queryable } from '../../store/index.js';
import type {
  ConcernListItemT,
  ConcernStatus,
  ConcernViewT,
  DecisionBodyT,
  ListConcernsQueryT,
  ListConcernsReplyT,
  SubmitConcernBodyT,
} from './schemas.js';
import {
  COMMITTED,
  type Concern,
  type ConcernListRow,
  findConcern,
  insertConcern,
  listConcerns,
  recordDecision,
} from './store.js';

export interface ConcernServiceDeps {
  db: Db;
  ledger: Ledger;
  /** Only for the version every entry records: no policy rule decides a concern (docs/concerns.md). */
  policies: PolicySource;
  registry: RegistryView;
  /** The gateway's clock for receipt, deadlines and decisions; tests set it to a day of their choosing. */
  now?: () => Date;
}

const PURPOSE = 'safeguarding_concern';

const invalid = (path: string, message: string) =>
  new AppError('validation_failed', 'The concern is not valid.', { errors: [{ path, message }] });

function statusOf(c: Pick<Concern, 'status' | 'acknowledgeBy'>, now: Date): ConcernStatus {
  if (c.status === 'submitted' && now.getTime() > c.acknowledgeBy.getTime()) return 'overdue';
  return c.status;
}

function listItem(r: ConcernListRow, now: Date): ConcernListItemT {
  const acknowledgeBy = new Date(r.acknowledge_by);
  return {
    id: r.id,
    status: statusOf({ status: r.status, acknowledgeBy }, now),
    from: r.from_agency,
    to: r.to_agency,
    urgency: r.urgency,
    categories: r.categories,
    ...(r.case_reference !== null ? { caseReference: r.case_reference } : {}),
    submittedAt: r.submitted_at,
    acknowledgeBy: acknowledgeBy.toISOString(),
    ...(r.outcome !== null ? { outcome: r.outcome } : {}),
    ...(r.decided_at !== null ? { decidedAt: r.decided_at } : {}),
  };
}

/** What every entry about a concern says: who acts, towards whom, for what, about which concern. */
function aboutConcern(c: Concern, p: Practitioner, policyVersion: string) {
  return {
    actor: actorOf(p),
    counterpart: p.agency === c.toAgency ? c.fromAgency : c.toAgency,
    concernId: c.id,
    ...(c.caseReference ? { caseReference: c.caseReference } : {}),
    purpose: PURPOSE,
    consent: c.consent.status,
    decision: 'permit' as const,
    ruleIds: [],
    policyVersion,
    categories: c.categories,
  };
}

export class ConcernService {
  private readonly now: () => Date;

  constructor(private readonly deps: ConcernServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private policyVersion(): string {
    return this.deps.policies.current().version;
  }

  /** The addressed agency: active, and children's social care (contract section 5). */
  private addressee(to: string) {
    const agency = this.deps.registry.activeAgency(to);
    if (!agency) throw invalid('/to', 'is not an active agency');
    if (agency.kind !== 'children_social_care') throw invalid('/to', 'must be a children_social_care agency');
    return agency;
  }

  private deadline(receivedAt: Date, urgency: 'immediate' | 'standard'): Date {
    try {
      return acknowledgeByRule(receivedAt, urgency);
    } catch (err) {
      if (err instanceof UnsupportedYearError) {
        throw new AppError('dependency_unavailable', 'The working-day calendar does not cover this date.');
      }
      throw err;
    }
  }

  async submit(p: Practitioner, body: SubmitConcernBodyT) {
    const to = this.addressee(body.to);
    if (body.child.type === 'adult') throw invalid('/child/type', 'must be child or unborn');
    const child = checkSubject(body.child, '/child');
    const householdMembers = (body.householdMembers ?? []).map((m, i) =>
      checkSubject(m, `/householdMembers/${i}`),
    );
    const submittedAt = this.now();
    const acknowledgeBy = this.deadline(submittedAt, body.urgency);
    const summary = commitText(body.summary);
    const consentReason = body.consent.reason !== undefined ? commitText(body.consent.reason) : undefined;
    const concern: Omit<Concern, 'status' | 'decision'> = {
      id: randomUUID(),
      fromAgency: p.agency,
      referrer: { sub: p.sub, role: p.role, name: p.name },
      toAgency: to.id,
      child,
      householdMembers,
      categories: body.categories,
      summary: { text: summary.text, salt: summary.salt },
      urgency: body.urgency,
      consent: {
        status: body.consent.status,
        ...(consentReason ? { reason: { text: consentReason.text, salt: consentReason.salt } } : {}),
      },
      referrerContact: body.referrerContact,
      ...(body.caseReference ? { caseReference: body.caseReference } : {}),
      submittedAt,
      acknowledgeBy,
    };

    return recordedTransaction(this.deps.db, async (tx) => {
      await insertConcern(tx, concern);
      const base = aboutConcern({ ...concern, status: 'submitted' }, p, this.policyVersion());
      const entries: LedgerEntryInput[] = [
        {
          ...base,
          action: 'concern.submitted',
          subject: identifiersOf(child),
          commitments: {
            [COMMITTED.summary]: summary.commitment,
            ...(consentReason ? { [COMMITTED.consentReason]: consentReason.commitment } : {}),
          },
        },
        // Each household member's details go to the CSC too: each is findable in the ledger by its own
        // identifiers (a subject report on the mother's partner shows this concern).
        ...householdMembers.map(
          (m): LedgerEntryInput => ({
            ...base,
            action: 'concern.household_member',
            subject: identifiersOf(m),
          }),
        ),
      ];
      await this.deps.ledger.append(tx, {
        entries,
        events: [
          {
            agency: to.id,
            type: 'concern.received',
            data: {
              concernId: concern.id,
              from: p.agency,
              to: to.id,
              urgency: body.urgency,
              submittedAt: submittedAt.toISOString(),
              acknowledgeBy: acknowledgeBy.toISOString(),
            },
            inbox: { kind: 'concern', ref: concern.id, dueBy: acknowledgeBy.toISOString() },
          },
        ],
      });
      return {
        id: concern.id,
        status: 'submitted' as const,
        submittedAt: submittedAt.toISOString(),
        acknowledgeBy: acknowledgeBy.toISOString(),
        ...(body.caseReference ? { caseReference: body.caseReference } : {}),
      };
    });
  }

  /** The concern if the caller's agency is a party to it; 404 otherwise, so existence never leaks. */
  private async visible(tx: Queryable, p: Practitioner, id: string, forUpdate = false): Promise<Concern> {
    if (!isUuid(id)) throw notFound();
    const c = await findConcern(tx, id, forUpdate);
    if (!c || (c.fromAgency !== p.agency && c.toAgency !== p.agency)) throw notFound();
    return c;
  }

  /**
   * Each read shows the child's and the household's details to one more practitioner: it is ledgered
   * (one entry per person shown, so that a subject report on any of them finds it), in the same
   * transaction, and nothing is shown if the ledger cannot record it.
   */
  async read(p: Practitioner, id: string): Promise<ConcernViewT> {
    return recordedTransaction(this.deps.db, async (tx) => {
      const c = await this.visible(tx, p, id);
      const base = aboutConcern(c, p, this.policyVersion());
      await this.deps.ledger.append(tx, {
        entries: [
          { ...base, action: 'concern.viewed', subject: identifiersOf(c.child) },
          ...c.householdMembers.map(
            (m): LedgerEntryInput => ({
              ...base,
              action: 'concern.household_member_viewed',
              subject: identifiersOf(m),
            }),
          ),
        ],
      });
      return this.view(c, p.agency === c.toAgency);
    });
  }

  /** The caller's agency's concerns, raised or received (references only: not a disclosure). */
  async list(p: Practitioner, q: ListConcernsQueryT): Promise<ListConcernsReplyT> {
    let after: { acknowledgeBy: Date; id: string } | undefined;
    if (q.cursor) {
      const [ms, id] = q.cursor.split('_') as [string, string];
      after = { acknowledgeBy: new Date(Number(ms)), id };
    }
    const rows = await listConcerns(this.deps.db, {
      agency: p.agency,
      open: (q.status ?? 'open') === 'open',
      ...(after ? { after } : {}),
      limit: q.limit,
    });
    const now = this.now();
    const items = rows.map((r) => listItem(r, now));
    const last = items.at(-1);
    return {
      items,
      nextCursor: last && items.length === q.limit ? `${Date.parse(last.acknowledgeBy)}_${last.id}` : null,
    };
  }

  private view(c: Concern, isAddressee: boolean): ConcernViewT {
    const v: ConcernViewT = {
      id: c.id,
      status: statusOf(c, this.now()),
      from: c.fromAgency,
      to: c.toAgency,
      referrer: c.referrer,
      child: c.child,
      categories: c.categories,
      summary: c.summary.text,
      urgency: c.urgency,
      consent: { status: c.consent.status, ...(c.consent.reason ? { reason: c.consent.reason.text } : {}) },
      householdMembers: c.householdMembers,
      referrerContact: c.referrerContact,
      submittedAt: c.submittedAt.toISOString(),
      acknowledgeBy: c.acknowledgeBy.toISOString(),
    };
    if (c.caseReference) v.caseReference = c.caseReference;
    const d = c.decision;
    if (d) {
      v.decision = {
        outcome: d.outcome,
        feedbackToReferrer: d.feedback.text,
        decidedAt: d.decidedAt.toISOString(),
        decidedBy: d.decidedBy,
        decidedLate: d.decidedAt.getTime() > c.acknowledgeBy.getTime(),
        ...(isAddressee && d.note ? { note: d.note.text } : {}),
      };
    }
    return v;
  }

  /**
   * The addressed CSC decides, once. The referrer knows the concern exists, so it is told it may not
   * (403); any other agency gets 404. A decision after acknowledgeBy is still taken, and shown as late.
   */
  async decide(p: Practitioner, id: string, body: DecisionBodyT) {
    return recordedTransaction(this.deps.db, async (tx) => {
      const c = await this.visible(tx, p, id, true);
      if (c.toAgency !== p.agency)
        throw forbidden('Only the agency the concern was raised with may decide it.');
      if (c.status !== 'submitted') throw conflict('The concern has already been decided.');
      const decidedAt = this.now();
      const feedback = commitText(body.feedbackToReferrer);
      const note = body.note !== undefined ? commitText(body.note) : undefined;
      await recordDecision(tx, c.id, {
        outcome: body.outcome,
        feedback: { text: feedback.text, salt: feedback.salt },
        ...(note ? { note: { text: note.text, salt: note.salt } } : {}),
        decidedAt,
        decidedBy: { sub: p.sub, role: p.role, name: p.name },
      });
      const decidedLate = decidedAt.getTime() > c.acknowledgeBy.getTime();
      await this.deps.ledger.append(tx, {
        entries: [
          {
            ...aboutConcern(c, p, this.policyVersion()),
            action: 'concern.decided',
            subject: identifiersOf(c.child),
            outcome: body.outcome,
            commitments: {
              [COMMITTED.feedbackToReferrer]: feedback.commitment,
              ...(note ? { [COMMITTED.note]: note.commitment } : {}),
            },
          },
        ],
        events: [
          {
            agency: c.fromAgency,
            type: 'concern.decided',
            data: {
              concernId: c.id,
              from: c.fromAgency,
              to: c.toAgency,
              outcome: body.outcome,
              decidedAt: decidedAt.toISOString(),
              decidedLate,
            },
            inbox: { kind: 'event', ref: c.id },
          },
        ],
      });
      return {
        id: c.id,
        status: 'decided' as const,
        outcome: body.outcome,
        decidedAt: decidedAt.toISOString(),
        acknowledgeBy: c.acknowledgeBy.toISOString(),
        decidedLate,
      };
    });
  }
}
