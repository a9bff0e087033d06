import type { Subject } from '../../http/subject.js';
import type { OverrideReason } from '../../policy/index.js';
import type { Queryable } from '../../store/index.js';
import type { ConsentOutcomeT, RefusalT } from './schemas.js';

export type StoredStatus = 'awaiting_response' | 'responded' | 'declined';
export type FieldMap = Record<string, string[]>;

export interface ConsentClaim {
  status: 'given' | 'refused' | 'not_sought';
  consentId?: string;
}

export interface Override {
  reason: OverrideReason;
  justification: string;
}

export interface InfoRequest {
  id: string;
  fromAgency: string;
  fromKind: string;
  fromSub: string;
  fromRole: string;
  toAgency: string;
  toKind: string;
  purpose: string;
  subject: Subject;
  relatedChildren?: Subject[];
  categories: string[];
  granted: string[];
  refused: RefusalT[];
  lawfulBasis: string[];
  consent: ConsentOutcomeT;
  consentRecordId?: string;
  consentNotice?: string;
  consentClaim?: ConsentClaim;
  override?: Override;
  justification: string;
  caseReference?: string;
  respondBy: Date;
  status: StoredStatus;
  policyVersion: string;
  createdAt: Date;
  respondedAt?: Date;
  responseData?: Record<string, unknown>;
  released?: FieldMap;
  withheldByPolicy?: FieldMap;
  withheld?: Withheld[];
  declinedAt?: Date;
  declineReason?: string;
  /** Salt of the decline reason's commitment in the ledger (absent for declines before commitments). */
  declineReasonSalt?: string;
}

/** A holder's own decision not to share a category; the salt is its reason's commitment's. */
export interface Withheld {
  category: string;
  reason: string;
  salt?: string;
}

/** Times come back as RFC 3339 strings (store/db.ts type parsers). */
interface Row extends Record<string, unknown> {
  id: string;
  from_agency: string;
  from_kind: string;
  from_sub: string;
  from_role: string;
  to_agency: string;
  to_kind: string;
  purpose: string;
  subject: Subject;
  related_children: Subject[] | null;
  categories: string[];
  granted: string[];
  refused: RefusalT[];
  lawful_basis: string[];
  consent: ConsentOutcomeT;
  consent_record_id: string | null;
  consent_notice: string | null;
  consent_claim: ConsentClaim | null;
  override: Override | null;
  justification: string;
  case_reference: string | null;
  respond_by: string;
  status: StoredStatus;
  policy_version: string;
  created_at: string;
  responded_at: string | null;
  response_data: Record<string, unknown> | null;
  released: FieldMap | null;
  withheld_by_policy: FieldMap | null;
  withheld: Withheld[] | null;
  declined_at: string | null;
  decline_reason: string | null;
  decline_reason_salt: string | null;
}

function fromRow(r: Row): InfoRequest {
  const out: InfoRequest = {
    id: r.id,
    fromAgency: r.from_agency,
    fromKind: r.from_kind,
    fromSub: r.from_sub,
    fromRole: r.from_role,
    toAgency: r.to_agency,
    toKind: r.to_kind,
    purpose: r.purpose,
    subject: r.subject,
    categories: r.categories,
    granted: r.granted,
    refused: r.refused,
    lawfulBasis: r.lawful_basis,
    consent: r.consent,
    justification: r.justification,
    respondBy: new Date(r.respond_by),
    status: r.status,
    policyVersion: r.policy_version,
    createdAt: new Date(r.created_at),
  };
  if (r.related_children) out.relatedChildren = r.related_children;
  if (r.consent_claim) out.consentClaim = r.consent_claim;
  if (r.consent_record_id !== null) out.consentRecordId = r.consent_record_id;
  if (r.consent_notice !== null) out.consentNotice = r.consent_notice;
  if (r.override) out.override = r.override;
  if (r.case_reference !== null) out.caseReference = r.case_reference;
  if (r.responded_at) out.respondedAt = new Date(r.responded_at);
  if (r.response_data) out.responseData = r.response_data;
  if (r.released) out.released = r.released;
  if (r.withheld_by_policy) out.withheldByPolicy = r.withheld_by_policy;
  if (r.withheld) out.withheld = r.withheld;
  if (r.declined_at) out.declinedAt = new Date(r.declined_at);
  if (r.decline_reason !== null) out.declineReason = r.decline_reason;
  if (r.decline_reason_salt !== null) out.declineReasonSalt = r.decline_reason_salt;
  return out;
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

export async function insertRequest(
  tx: Queryable,
  r: Omit<InfoRequest, 'status'> & { status: 'awaiting_response' },
): Promise<void> {
  await tx.query(
    `INSERT INTO info_requests (id, from_agency, from_kind, from_sub, from_role, to_agency, to_kind, purpose,
       subject, related_children, categories, granted, refused, lawful_basis, consent, consent_claim, override,
       justification, case_reference, respond_by, status, policy_version, created_at, consent_record_id,
       consent_notice)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
       $22, $23, $24, $25)`,
    [
      r.id,
      r.fromAgency,
      r.fromKind,
      r.fromSub,
      r.fromRole,
      r.toAgency,
      r.toKind,
      r.purpose,
      json(r.subject),
      json(r.relatedChildren),
      r.categories,
      r.granted,
      json(r.refused),
      r.lawfulBasis,
      json(r.consent),
      json(r.consentClaim),
      json(r.override),
      r.justification,
      r.caseReference ?? null,
      r.respondBy.toISOString(),
      r.status,
      r.policyVersion,
      r.createdAt.toISOString(),
      r.consentRecordId ?? null,
      r.consentNotice ?? null,
    ],
  );
}

/** Reads one request; `forUpdate` locks the row so that two answers to it cannot both pass the state check. */
export async function findRequest(
  tx: Queryable,
  id: string,
  forUpdate = false,
): Promise<InfoRequest | undefined> {
  const rows = await tx.query<Row>(
    `SELECT * FROM info_requests WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function recordResponse(
  tx: Queryable,
  id: string,
  r: {
    at: Date;
    bySub: string;
    data: Record<string, unknown>;
    released: FieldMap;
    withheldByPolicy: FieldMap;
    withheld?: Withheld[];
  },
): Promise<void> {
  await tx.query(
    `UPDATE info_requests SET status = 'responded', responded_at = $2, responded_by_sub = $3,
       response_data = $4, released = $5, withheld_by_policy = $6, withheld = $7
     WHERE id = $1 AND status = 'awaiting_response'`,
    [
      id,
      r.at.toISOString(),
      r.bySub,
      json(r.data),
      json(r.released),
      json(r.withheldByPolicy),
      json(r.withheld),
    ],
  );
}

export async function recordDecline(
  tx: Queryable,
  id: string,
  d: { at: Date; bySub: string; reason: string; salt: string },
): Promise<void> {
  await tx.query(
    `UPDATE info_requests SET status = 'declined', declined_at = $2, declined_by_sub = $3, decline_reason = $4,
       decline_reason_salt = $5
     WHERE id = $1 AND status = 'awaiting_response'`,
    [id, d.at.toISOString(), d.bySub, d.reason, d.salt],
  );
}
