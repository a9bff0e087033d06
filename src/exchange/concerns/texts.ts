import { isUuid } from '../../http/schema.js';
import { identifiersOf } from '../../http/subject.js';
import type { HeldTexts, LedgerEntry } from '../../ledger/index.js';
import type { Queryable } from '../../store/index.js';
import { COMMITTED, findConcern, textsOf } from './store.js';

/**
 * The free texts a concern's ledger entries commit to (the summary and a consent reason on
 * `concern.submitted`, the feedback and the note on `concern.decided`), as the concern record still
 * holds them, for an auditor who reads and checks them (docs/concerns.md). The note is the addressed
 * CSC's own: the referrer's auditor gets it no more than the referrer does.
 */
export async function concernTexts(
  tx: Queryable,
  entry: LedgerEntry,
  viewer: string,
): Promise<HeldTexts | undefined> {
  if (!entry.concernId || !isUuid(entry.concernId)) return undefined;
  const c = await findConcern(tx, entry.concernId);
  if (!c) return undefined;
  const texts = textsOf(c);
  if (viewer !== c.toAgency) delete texts[COMMITTED.note];
  return { subject: identifiersOf(c.child), texts };
}
