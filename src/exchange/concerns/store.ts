import type { Subject } from '../../http/subject.js';
import type { Queryable } from '../../store/index.js';

export type StoredStatus = 'submitted' | 'decided';

/** The names under which a concern's free texts are committed in its ledger entries. */
export const COMMITTED = {
  summary: 'summary',
  consentReason: 'consentReason',
  feedbackToReferrer: 'feedbackToReferrer',
  note: 'note',
} as const;

/** A free text with the salt of its commitment in the ledger (src/ledger commitText). */
export interface SaltedText {
  text: string;
  salt: string;
}

export interface PractitionerRef {
  sub: string;
  role: string;
  name: string;
}

export interface ConcernDecision {
  outcome: string;
  feedback: SaltedText;
  note?: SaltedText;
  decidedAt: Date;
  decidedBy: PractitionerRef;
}

export interface Concern {
  id: string;
  fromAgency: string;
  referrer: PractitionerRef;
  toAgency: string;
  child: Subject;
  householdMembers: Subject[];
  categories: string[];
  summary: SaltedText;
  urgency: 'immediate' | 'standard';
  consent: { status: 'given' | 'refused' | 'not_sought'; reason?: SaltedText };
  referrerContact: { phone?: string; email?: string };
  caseReference?: string;
  submittedAt: Date;
  acknowledgeBy: Date;
  status: StoredStatus;
  decision?: ConcernDecision;
}

/** Times come back as RFC 3339 strings (store/db.ts type parsers). */
interface Row extends Record<string, unknown> {
  id: string;
  from_agency: string;
  from_sub: string;
  from_role: string;
  from_name: string;
  to_agency: string;
  child: Subject;
  household_members: Subject[] | null;
  categories: string[];
  summary: string;
  summary_salt: string;
  urgency: 'immediate' | 'standard';
  consent_status: 'given' | 'refused' | 'not_sought';
  consent_reason: string | null;
  consent_reason_salt: string | null;
  referrer_contact: { phone?: string; email?: string };
  case_reference: string | null;
  submitted_at: string;
  acknowledge_by: string;
  status: StoredStatus;
  outcome: string | null;
  feedback: string | null;
  feedback_salt: string | null;
  note: string | null;
  note_salt: string | null;
  decided_at: string | null;
  decided_by_sub: string | null;
  decided_by_role: string | null;
  decided_by_name: string | null;
}

const salted = (text: string | null, salt: string | null): SaltedText | undefined =>
  text !== null && salt !== null ? { text, salt } : undefined;

function fromRow(r: Row): Concern {
  const consentReason = salted(r.consent_reason, r.consent_reason_salt);
  const out: Concern = {
    id: r.id,
    fromAgency: r.from_agency,
    referrer: { sub: r.from_sub, role: r.from_role, name: r.from_name },
    toAgency: r.to_agency,
    child: r.child,
    householdMembers: r.household_members ?? [],
    categories: r.categories,
    summary: { text: r.summary, salt: r.summary_salt },
    urgency: r.urgency,
    consent: { status: r.consent_status, ...(consentReason ? { reason: consentReason } : {}) },
    referrerContact: r.referrer_contact,
    submittedAt: new Date(r.submitted_at),
    acknowledgeBy: new Date(r.acknowledge_by),
    status: r.status,
  };
  if (r.case_reference !== null) out.caseReference = r.case_reference;
  const feedback = salted(r.feedback, r.feedback_salt);
  // The table's CHECK guarantees a decided row has all of these.
  if (r.status === 'decided' && r.outcome && feedback && r.decided_at && r.decided_by_sub) {
    const note = salted(r.note, r.note_salt);
    out.decision = {
      outcome: r.outcome,
      feedback,
      ...(note ? { note } : {}),
      decidedAt: new Date(r.decided_at),
      decidedBy: { sub: r.decided_by_sub, role: r.decided_by_role ?? '', name: r.decided_by_name ?? '' },
    };
  }
  return out;
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

export async function insertConcern(tx: Queryable, c: Omit<Concern, 'status' | 'decision'>): Promise<void> {
  await tx.query(
    `INSERT INTO concerns (id, from_agency, from_sub, from_role, from_name, to_agency, child, household_members,
       categories, summary, summary_salt, urgency, consent_status, consent_reason, consent_reason_salt,
       referrer_contact, case_reference, submitted_at, acknowledge_by, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 'submitted')`,
    [
      c.id,
      c.fromAgency,
      c.referrer.sub,
      c.referrer.role,
      c.referrer.name,
      c.toAgency,
      json(c.child),
      c.householdMembers.length > 0 ? json(c.householdMembers) : null,
      c.categories,
      c.summary.text,
      c.summary.salt,
      c.urgency,
      c.consent.status,
      c.consent.reason?.text ?? null,
      c.consent.reason?.salt ?? null,
      json(c.referrerContact),
      c.caseReference ?? null,
      c.submittedAt.toISOString(),
      c.acknowledgeBy.toISOString(),
    ],
  );
}

/** Reads one concern; `forUpdate` locks the row so that two decisions cannot both pass the state check. */
export async function findConcern(
  tx: Queryable,
  id: string,
  forUpdate = false,
): Promise<Concern | undefined> {
  const rows = await tx.query<Row>(`SELECT * FROM concerns WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function recordDecision(tx: Queryable, id: string, d: ConcernDecision): Promise<void> {
  await tx.query(
    `UPDATE concerns SET status = 'decided', outcome = $2, feedback = $3, feedback_salt = $4, note = $5,
       note_salt = $6, decided_at = $7, decided_by_sub = $8, decided_by_role = $9, decided_by_name = $10
     WHERE id = $1 AND status = 'submitted'`,
    [
      id,
      d.outcome,
      d.feedback.text,
      d.feedback.salt,
      d.note?.text ?? null,
      d.note?.salt ?? null,
      d.decidedAt.toISOString(),
      d.decidedBy.sub,
      d.decidedBy.role,
      d.decidedBy.name,
    ],
  );
}

/** Each free text of a concern with its salt, under the name its ledger entries commit it by. */
export function textsOf(c: Concern): Record<string, SaltedText> {
  const texts: Record<string, SaltedText> = { [COMMITTED.summary]: c.summary };
  if (c.consent.reason) texts[COMMITTED.consentReason] = c.consent.reason;
  if (c.decision) {
    texts[COMMITTED.feedbackToReferrer] = c.decision.feedback;
    if (c.decision.note) texts[COMMITTED.note] = c.decision.note;
  }
  return texts;
}

/** A concern as a list shows it: references, codes and times, nothing about the child. */
export interface ConcernListRow extends Record<string, unknown> {
  id: string;
  from_agency: string;
  to_agency: string;
  status: StoredStatus;
  urgency: string;
  categories: string[];
  case_reference: string | null;
  submitted_at: string;
  acknowledge_by: string;
  outcome: string | null;
  decided_at: string | null;
}

/**
 * The concerns an agency raised or received, soonest deadline first; `open` keeps the undecided ones.
 * Keyset paging on (acknowledge_by, id): a page starts after the last row of the one before.
 */
export async function listConcerns(
  tx: Queryable,
  q: { agency: string; open: boolean; after?: { acknowledgeBy: Date; id: string }; limit: number },
): Promise<ConcernListRow[]> {
  return tx.query<ConcernListRow>(
    `SELECT id, from_agency, to_agency, status, urgency, categories, case_reference, submitted_at,
            acknowledge_by, outcome, decided_at
       FROM concerns
      WHERE (from_agency = $1 OR to_agency = $1)
        AND (NOT $2::boolean OR status = 'submitted')
        AND ($3::timestamptz IS NULL OR (acknowledge_by, id) > ($3::timestamptz, $4::uuid))
      ORDER BY acknowledge_by, id
      LIMIT $5`,
    [q.agency, q.open, q.after?.acknowledgeBy.toISOString() ?? null, q.after?.id ?? null, q.limit],
  );
}
