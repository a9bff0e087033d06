import type { Subject } from '../../http/subject.js';

/**
 * Who a flag is about, and who a search asks about, as the flag index sees them: keyed hashes of
 * normalised, tagged identifiers, never the identifiers themselves. Pure: the hash function is the
 * caller's (the ledger's keyed hash with the gateway's subject-hashing secret).
 */

/** The identifiers the index matches on; each is a keyed hash, absent when the subject does not carry it. */
export interface IdentityHashes {
  nhs?: string;
  pnc?: string;
  /** Name + date of birth (for an unborn child's flag: the mother's, when the publisher gives it). */
  nameDob?: string;
  /** Name + expected delivery date (an unborn child, by the parent's name). */
  nameEdd?: string;
}

export type Match = 'exact' | 'possible';

/**
 * A name as the index compares it: compatibility-decomposed (NFKD), combining marks (accents) dropped,
 * lower-case, and nothing but letters and digits kept, so that case, spacing, hyphens, apostrophes (any
 * of ' ’ ‘ ʼ `) and full stops make no difference: "Zoë O'Brien-Smith" and "ZOE OBRIEN SMITH" agree.
 */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** A PNC id without spaces, upper-case, and without the serial number's leading zeros (01/012X = 01/12X). */
export function normalisePncId(pncId: string): string {
  const compact = pncId.replace(/\s/g, '').toUpperCase();
  const m = /^([0-9]{2}(?:[0-9]{2})?)\/0*([0-9]+[A-Z])$/.exec(compact);
  return m ? `${m[1]}/${m[2]}` : compact;
}

/**
 * The tagged, normalised identifiers of a subject that are hashed into the index. The tags are the flag
 * index's own (`flag-nhs:` …), so that no value of the index ever equals a ledger subjectRef, and one
 * kind of identifier can never collide with another.
 */
export function taggedIdentifiers(
  subject: Partial<Subject>,
): Record<keyof IdentityHashes, string | undefined> {
  const nhs = subject.nhsNumber?.replace(/\D/g, '');
  const name = subject.name
    ? `${normaliseName(subject.name.given)}\n${normaliseName(subject.name.family)}`
    : undefined;
  return {
    nhs: nhs ? `flag-nhs:${nhs}` : undefined,
    pnc: subject.pncId ? `flag-pnc:${normalisePncId(subject.pncId)}` : undefined,
    nameDob: name && subject.dateOfBirth ? `flag-name-dob:${name}\n${subject.dateOfBirth}` : undefined,
    nameEdd:
      name && subject.expectedDeliveryDate
        ? `flag-name-edd:${name}\n${subject.expectedDeliveryDate}`
        : undefined,
  };
}

/** The keyed hashes of a subject's identifiers, with `hash` the gateway's keyed hash. */
export function identityHashes(subject: Partial<Subject>, hash: (tagged: string) => string): IdentityHashes {
  const out: IdentityHashes = {};
  for (const [k, v] of Object.entries(taggedIdentifiers(subject)) as [keyof IdentityHashes, string?][]) {
    if (v !== undefined) out[k] = hash(v);
  }
  return out;
}

/**
 * The hash that makes a flag one per subject + flag + agency: the subject's strongest identifier
 * (NHS number, then PNC id, then name + date of birth, then name + expected delivery date).
 */
export function subjectKeyOf(h: IdentityHashes): string | undefined {
  return h.nhs ?? h.pnc ?? h.nameDob ?? h.nameEdd;
}

/**
 * How a flag's subject matches the subject searched for, or undefined when it does not:
 * - an NHS number or PNC id that both carry and that differs: no match, whatever else agrees;
 * - an NHS number or PNC id that both carry and that agrees: `exact`;
 * - otherwise, name + date of birth (or name + expected delivery date) agreeing: `possible`, never more.
 */
export function matchOf(searched: IdentityHashes, flag: IdentityHashes): Match | undefined {
  const differs = (k: 'nhs' | 'pnc') =>
    searched[k] !== undefined && flag[k] !== undefined && searched[k] !== flag[k];
  if (differs('nhs') || differs('pnc')) return undefined;
  const agrees = (k: keyof IdentityHashes) => searched[k] !== undefined && searched[k] === flag[k];
  if (agrees('nhs') || agrees('pnc')) return 'exact';
  if (agrees('nameDob') || agrees('nameEdd')) return 'possible';
  return undefined;
}
