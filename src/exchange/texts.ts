import type { HeldTexts, LedgerEntry } from '../ledger/index.js';
import type { Queryable } from '../store/index.js';
import { concernTexts } from './concerns/texts.js';
import { requestTexts } from './requests/texts.js';

/** Finds, for an auditor, the free texts a ledger entry commits to, in the record of its journey. */
export async function committedTexts(
  tx: Queryable,
  entry: LedgerEntry,
  viewer: string,
): Promise<HeldTexts | undefined> {
  if (entry.requestId) return requestTexts(tx, entry);
  if (entry.concernId) return concernTexts(tx, entry, viewer);
  return undefined;
}
