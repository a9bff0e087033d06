import { isUuid } from '../../http/schema.js';
import { identifiersOf } from '../../http/subject.js';
import type { HeldTexts, LedgerEntry } from '../../ledger/index.js';
import type { Queryable } from '../../store/index.js';
import { findRequest } from './store.js';

/**
 * The free texts a request's ledger entries commit to, as the request record still holds them: a
 * decline's reason, a holder's reason for withholding a category (docs/ledger.md, "Free text").
 */
export async function requestTexts(tx: Queryable, entry: LedgerEntry): Promise<HeldTexts | undefined> {
  if (!entry.requestId || !isUuid(entry.requestId)) return undefined;
  const r = await findRequest(tx, entry.requestId);
  if (!r) return undefined;
  const texts: HeldTexts['texts'] = {};
  if (entry.action === 'request.declined' && r.declineReason !== undefined && r.declineReasonSalt) {
    texts.reason = { text: r.declineReason, salt: r.declineReasonSalt };
  }
  if (entry.action === 'response.withheld' && entry.categories?.length === 1) {
    const w = r.withheld?.find((x) => x.category === entry.categories?.[0]);
    if (w?.salt) texts.reason = { text: w.reason, salt: w.salt };
  }
  return { subject: identifiersOf(r.subject), texts };
}
