import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface SubjectIdentifiers {
  nhsNumber?: string;
  pncId?: string;
  name?: { given: string; family: string };
  dateOfBirth?: string;
  expectedDeliveryDate?: string;
}

/** Keyed hashes of a subject: `subjectRef` is the strongest identifier's, `subjectRefs` all of them. */
export interface SubjectRefs {
  subjectRef: string;
  subjectRefs: string[];
}

export class SubjectKeyError extends Error {}

/** Reads `<certsDir>/subject-hmac.key`: at least 32 bytes, written by `sgw ca init` as hex. */
export function loadSubjectKey(certsDir: string): Buffer {
  const file = path.join(certsDir, 'subject-hmac.key');
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    throw new SubjectKeyError(`cannot read the subject-hashing secret ${file}`);
  }
  if (!/^([0-9a-fA-F]{2}){32,}$/.test(text)) {
    throw new SubjectKeyError(`${file} must hold at least 32 bytes as hex`);
  }
  return Buffer.from(text, 'hex');
}

const collapse = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The normalised, tagged forms that are hashed, strongest first. Tags keep one identifier's value from
 * ever colliding with another's. NHS number: digits only. PNC id: whitespace removed, upper-case.
 * Names: trimmed, inner whitespace collapsed to one space, lower-case; dates as given (YYYY-MM-DD).
 */
export function normalisedIdentifiers(subject: SubjectIdentifiers): string[] {
  const out: string[] = [];
  const nhs = subject.nhsNumber?.replace(/\D/g, '');
  if (nhs) out.push(`nhs:${nhs}`);
  const pnc = subject.pncId?.replace(/\s/g, '').toUpperCase();
  if (pnc) out.push(`pnc:${pnc}`);
  if (subject.name) {
    const name = `${collapse(subject.name.given)}\n${collapse(subject.name.family)}`;
    if (subject.dateOfBirth) out.push(`name-dob:${name}\n${subject.dateOfBirth.trim()}`);
    if (subject.expectedDeliveryDate) out.push(`name-edd:${name}\n${subject.expectedDeliveryDate.trim()}`);
  }
  return out;
}

/** HMAC-SHA-256, hex, over the UTF-8 of one normalised identifier. */
export function subjectHash(key: Buffer, normalised: string): string {
  return createHmac('sha256', key).update(normalised, 'utf8').digest('hex');
}

export function computeSubjectRefs(key: Buffer, subject: SubjectIdentifiers): SubjectRefs | null {
  const refs = normalisedIdentifiers(subject).map((n) => subjectHash(key, n));
  const first = refs[0];
  return first === undefined ? null : { subjectRef: first, subjectRefs: refs };
}

let processKey: Buffer | undefined;

/**
 * The subject-hashing secret used by `appendRecord` and `subjectRefs`. `createLedger` sets it from the
 * certificates folder; a process that writes entries about subjects without it fails closed.
 */
export function setSubjectKey(key: Buffer): void {
  if (key.length < 32) throw new SubjectKeyError('the subject-hashing secret must be at least 32 bytes');
  processKey = key;
}

export function currentSubjectKey(): Buffer {
  if (!processKey) throw new SubjectKeyError('no subject-hashing secret is configured');
  return processKey;
}

/** The refs one may search the ledger by for this subject (one per identifier given). */
export function subjectRefs(subject: SubjectIdentifiers): string[] {
  return computeSubjectRefs(currentSubjectKey(), subject)?.subjectRefs ?? [];
}
