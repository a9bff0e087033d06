import type { FlagType } from '../../policy/index.js';
import type { Queryable } from '../../store/index.js';
import type { IdentityHashes } from './match.js';

export interface FlagContact {
  team: string;
  phone?: string;
  email?: string;
}

export type FlagDetails = Record<string, string | number | boolean | null>;

/** A flag as the index holds it: hashes of who it is about, never the identifiers. */
export interface StoredFlag {
  id: string;
  agencyId: string;
  agencyKind: string;
  flag: FlagType;
  subjectType: 'child' | 'adult' | 'unborn';
  hashes: IdentityHashes;
  details?: FlagDetails;
  contact: FlagContact;
  /** RFC 3339. */
  validFrom: string;
  validTo?: string;
  endedAt?: string;
}

/** Times come back as RFC 3339 strings (store/db.ts type parsers). */
interface Row extends Record<string, unknown> {
  id: string;
  agency_id: string;
  agency_kind: string;
  flag: FlagType;
  subject_type: StoredFlag['subjectType'];
  nhs_hash: string | null;
  pnc_hash: string | null;
  name_dob_hash: string | null;
  name_edd_hash: string | null;
  details: FlagDetails | null;
  contact: FlagContact;
  valid_from: string;
  valid_to: string | null;
  ended_at: string | null;
}

const COLUMNS = `id, agency_id, agency_kind, flag, subject_type, nhs_hash, pnc_hash, name_dob_hash, name_edd_hash,
  details, contact, valid_from, valid_to, ended_at`;

function fromRow(r: Row): StoredFlag {
  const hashes: IdentityHashes = {};
  if (r.nhs_hash !== null) hashes.nhs = r.nhs_hash;
  if (r.pnc_hash !== null) hashes.pnc = r.pnc_hash;
  if (r.name_dob_hash !== null) hashes.nameDob = r.name_dob_hash;
  if (r.name_edd_hash !== null) hashes.nameEdd = r.name_edd_hash;
  return {
    id: r.id,
    agencyId: r.agency_id,
    agencyKind: r.agency_kind,
    flag: r.flag,
    subjectType: r.subject_type,
    hashes,
    ...(r.details !== null ? { details: r.details } : {}),
    contact: r.contact,
    validFrom: r.valid_from,
    ...(r.valid_to !== null ? { validTo: r.valid_to } : {}),
    ...(r.ended_at !== null ? { endedAt: r.ended_at } : {}),
  };
}

export interface Publication {
  id: string;
  agencyId: string;
  agencyKind: string;
  flag: FlagType;
  subjectType: StoredFlag['subjectType'];
  subjectKey: string;
  hashes: IdentityHashes;
  details?: FlagDetails;
  contact: FlagContact;
  validFrom: string;
  validTo?: string;
  at: Date;
  bySub: string;
}

/**
 * Publishes a flag: a new row, or, when the agency already has a live flag of this type for this subject
 * (same `subject_key`), that row brought up to date. One statement, so that two publications at once
 * cannot make two live flags (the partial unique index decides). Returns the flag's id and whether it
 * is new.
 */
export async function upsertFlag(tx: Queryable, p: Publication): Promise<{ id: string; created: boolean }> {
  const [row] = await tx.query<{ id: string; revision: number }>(
    `INSERT INTO flags (id, agency_id, agency_kind, flag, subject_type, subject_key, nhs_hash, pnc_hash,
       name_dob_hash, name_edd_hash, details, contact, valid_from, valid_to, published_at, published_by_sub,
       updated_at, updated_by_sub)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $15, $16)
     ON CONFLICT (agency_id, flag, subject_key) WHERE ended_at IS NULL DO UPDATE SET
       subject_type = EXCLUDED.subject_type,
       nhs_hash = EXCLUDED.nhs_hash,
       pnc_hash = EXCLUDED.pnc_hash,
       name_dob_hash = EXCLUDED.name_dob_hash,
       name_edd_hash = EXCLUDED.name_edd_hash,
       details = EXCLUDED.details,
       contact = EXCLUDED.contact,
       valid_from = EXCLUDED.valid_from,
       valid_to = EXCLUDED.valid_to,
       revision = flags.revision + 1,
       updated_at = EXCLUDED.updated_at,
       updated_by_sub = EXCLUDED.updated_by_sub
     RETURNING id, revision`,
    [
      p.id,
      p.agencyId,
      p.agencyKind,
      p.flag,
      p.subjectType,
      p.subjectKey,
      p.hashes.nhs ?? null,
      p.hashes.pnc ?? null,
      p.hashes.nameDob ?? null,
      p.hashes.nameEdd ?? null,
      p.details === undefined ? null : JSON.stringify(p.details),
      JSON.stringify(p.contact),
      p.validFrom,
      p.validTo ?? null,
      p.at.toISOString(),
      p.bySub,
    ],
  );
  if (!row) throw new Error('the flag was not written');
  return { id: row.id, created: row.revision === 1 };
}

/** One flag, locked against a concurrent end. */
export async function findFlagForUpdate(tx: Queryable, id: string): Promise<StoredFlag | undefined> {
  const rows = await tx.query<Row>(`SELECT ${COLUMNS} FROM flags WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function endFlag(tx: Queryable, id: string, at: Date, bySub: string): Promise<void> {
  await tx.query('UPDATE flags SET ended_at = $2, ended_by_sub = $3 WHERE id = $1 AND ended_at IS NULL', [
    id,
    at.toISOString(),
    bySub,
  ]);
}

const SEARCH_COLUMNS: ReadonlyArray<readonly [keyof IdentityHashes, string]> = [
  ['nhs', 'nhs_hash'],
  ['pnc', 'pnc_hash'],
  ['nameDob', 'name_dob_hash'],
  ['nameEdd', 'name_edd_hash'],
];

/**
 * The live flags (not ended, validFrom ≤ now < validTo) that share any identifier hash with a subject:
 * one query, each hash on its own live-only index. Whether a candidate really matches is matchOf's call.
 */
export async function candidateFlags(tx: Queryable, h: IdentityHashes, now: Date): Promise<StoredFlag[]> {
  const params: unknown[] = [now.toISOString()];
  const any: string[] = [];
  for (const [key, column] of SEARCH_COLUMNS) {
    const value = h[key];
    if (value === undefined) continue;
    params.push(value);
    any.push(`${column} = $${params.length}`);
  }
  if (any.length === 0) return [];
  const rows = await tx.query<Row>(
    `SELECT ${COLUMNS} FROM flags
      WHERE ended_at IS NULL AND (${any.join(' OR ')})
        AND valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1)`,
    params,
  );
  return rows.map(fromRow);
}
