import { randomUUID } from 'node:crypto';
import type { Subject } from '../http/subject.js';
import type { Queryable } from '../store/index.js';

export type ConsentStatus = 'given' | 'refused';

export interface GivenBy {
  relationship: 'self' | 'parent' | 'person_with_parental_responsibility' | 'guardian';
  name: string;
}

/** A consent as stored and shown (times as RFC 3339 UTC). */
export interface ConsentRecord {
  id: string;
  subject: Subject;
  givenBy: GivenBy;
  status: ConsentStatus;
  purposes: string[];
  agencies?: string[];
  categories?: string[];
  validFrom: string;
  validTo?: string;
  evidence: string;
  recordedBy: { agency: string };
  recordedAt: string;
  withdrawn?: { at: string; reason: string; byAgency: string };
}

/** What recording a consent takes: the record's own fields, the identifiers it is found by, the recorder. */
export type NewConsent = Omit<ConsentRecord, 'id' | 'recordedBy' | 'recordedAt' | 'withdrawn'> & {
  nhsNumber?: string;
  pncId?: string;
  recordedBy: { agency: string; sub: string };
};

interface ConsentRow extends Record<string, unknown> {
  id: string;
  nhs_number: string | null;
  pnc_id: string | null;
  subject: Subject;
  given_by: GivenBy;
  status: ConsentStatus;
  purposes: string[];
  agencies: string[] | null;
  categories: string[] | null;
  valid_from: string;
  valid_to: string | null;
  evidence: string;
  recorded_by_agency: string;
  recorded_at: string;
  withdrawn_at: string | null;
  withdrawn_reason: string | null;
  withdrawn_by_agency: string | null;
}

function toRecord(r: ConsentRow): ConsentRecord {
  return {
    id: r.id,
    subject: r.subject,
    givenBy: r.given_by,
    status: r.status,
    purposes: r.purposes,
    ...(r.agencies ? { agencies: r.agencies } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
    validFrom: r.valid_from,
    ...(r.valid_to ? { validTo: r.valid_to } : {}),
    evidence: r.evidence,
    recordedBy: { agency: r.recorded_by_agency },
    recordedAt: r.recorded_at,
    ...(r.withdrawn_at
      ? {
          withdrawn: {
            at: r.withdrawn_at,
            reason: r.withdrawn_reason ?? '',
            byAgency: r.withdrawn_by_agency ?? '',
          },
        }
      : {}),
  };
}

export async function insertConsent(tx: Queryable, c: NewConsent): Promise<string> {
  const id = randomUUID();
  await tx.query(
    `INSERT INTO consents (id, nhs_number, pnc_id, subject, given_by, status, purposes, agencies, categories,
       valid_from, valid_to, evidence, recorded_by_agency, recorded_by_sub)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      id,
      c.nhsNumber ?? null,
      c.pncId ?? null,
      JSON.stringify(c.subject),
      JSON.stringify(c.givenBy),
      c.status,
      c.purposes,
      c.agencies ?? null,
      c.categories ?? null,
      c.validFrom,
      c.validTo ?? null,
      c.evidence,
      c.recordedBy.agency,
      c.recordedBy.sub,
    ],
  );
  return id;
}

export async function findConsent(tx: Queryable, id: string): Promise<ConsentRecord | undefined> {
  const rows = await tx.query<ConsentRow>('SELECT * FROM consents WHERE id = $1', [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function listConsents(
  tx: Queryable,
  by: { nhsNumber?: string; pncId?: string },
): Promise<ConsentRecord[]> {
  const rows = await tx.query<ConsentRow>(
    `SELECT * FROM consents
      WHERE ($1::text IS NOT NULL AND nhs_number = $1) OR ($2::text IS NOT NULL AND pnc_id = $2)
      ORDER BY recorded_at, id`,
    [by.nhsNumber ?? null, by.pncId ?? null],
  );
  return rows.map(toRecord);
}

/** Marks a consent withdrawn once; returns false when it already was (the caller answers 409). */
export async function withdrawConsent(
  tx: Queryable,
  id: string,
  reason: string,
  byAgency: string,
): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE consents SET withdrawn_at = now(), withdrawn_reason = $2, withdrawn_by_agency = $3
      WHERE id = $1 AND withdrawn_at IS NULL RETURNING id`,
    [id, reason, byAgency],
  );
  return rows.length === 1;
}

export interface ConsentQuery {
  /** The request's subject (normalised by checkSubject). */
  subject: Subject;
  purpose: string;
  requesterAgency: string;
  holderAgency: string;
  categories: readonly string[];
  at: Date;
}

/** A consent record that applies to a request, as far as a decision needs it. */
export interface ApplicableConsent {
  id: string;
  status: ConsentStatus;
  recordedAt: string;
}

/** For one category: the most recent applicable record, which decides; none when no record applies. */
export interface CategoryConsent {
  record?: ApplicableConsent;
}

/**
 * Whether a record and a request are about the same person (contract section 8): the same kind of
 * subject, no identifier both carry differs, and an NHS number or PNC id agrees. Names are not compared:
 * spellings vary, and a strong identifier has to agree anyway.
 */
export function samePerson(record: Subject, request: Subject): boolean {
  if (record.type !== request.type) return false;
  for (const key of ['nhsNumber', 'pncId', 'dateOfBirth', 'expectedDeliveryDate'] as const) {
    const a = record[key];
    const b = request[key];
    if (a !== undefined && b !== undefined && a !== b) return false;
  }
  return (
    (record.nhsNumber !== undefined && record.nhsNumber === request.nhsNumber) ||
    (record.pncId !== undefined && record.pncId === request.pncId)
  );
}

/**
 * The agencies a record concerns (as FHIR Consent's provision actors): the one that recorded it and the
 * ones it names; every agency when it names none.
 */
export function partiesOf(r: Pick<ConsentRecord, 'recordedBy' | 'agencies'>): string[] | '*' {
  return r.agencies ? [...new Set([r.recordedBy.agency, ...r.agencies])] : '*';
}

export function isParty(r: Pick<ConsentRecord, 'recordedBy' | 'agencies'>, agency: string): boolean {
  const parties = partiesOf(r);
  return parties === '*' || parties.includes(agency);
}

/**
 * Which consent record decides each category of a request: of the records in force that are about the
 * same person, cover the purpose and the category, and concern the sharing between the requester and
 * the holder (both are parties to it), the most recent. A later refusal overrides an earlier consent
 * and vice versa; a record one of the two agencies is no party to decides nothing for them. Only exact
 * identifiers find records: a consent is never applied to a subject known by name and date of birth only.
 */
export async function consentCoverage(tx: Queryable, q: ConsentQuery): Promise<Map<string, CategoryConsent>> {
  const result = new Map<string, CategoryConsent>(q.categories.map((c) => [c, {}]));
  const { nhsNumber, pncId } = q.subject;
  if (!nhsNumber && !pncId) return result;
  const rows = await tx.query<ConsentRow>(
    `SELECT * FROM consents
      WHERE (($1::text IS NOT NULL AND nhs_number = $1) OR ($2::text IS NOT NULL AND pnc_id = $2))
        AND withdrawn_at IS NULL
        AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)
        AND $4 = ANY (purposes)
      ORDER BY recorded_at DESC, id`,
    [nhsNumber ?? null, pncId ?? null, q.at.toISOString(), q.purpose],
  );
  const applicable = rows
    .map(toRecord)
    .filter(
      (r) => samePerson(r.subject, q.subject) && isParty(r, q.requesterAgency) && isParty(r, q.holderAgency),
    );
  for (const category of q.categories) {
    const decides = applicable.find((r) => !r.categories || r.categories.includes(category));
    if (decides) {
      result.set(category, {
        record: { id: decides.id, status: decides.status, recordedAt: decides.recordedAt },
      });
    }
  }
  return result;
}
