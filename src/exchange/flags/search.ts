import type { AgencyKind } from '../../identity/index.js';
import {
  type Bundle,
  type CategoryDecision,
  decideOne,
  FLAG_TYPES,
  filterPayload,
} from '../../policy/index.js';
import { type IdentityHashes, type Match, matchOf } from './match.js';
import type { FlagResultT, OverallMatch } from './schemas.js';
import type { FlagContact, FlagDetails, StoredFlag } from './store.js';

/** What one subject's search shows, and what the ledger and the publishers are told of it. */
export interface Disclosure {
  match: OverallMatch;
  results: FlagResultT[];
  /** The flags shown, each with how it matched and the decision that showed it. */
  shown: Array<{ flag: StoredFlag; match: Match; decision: CategoryDecision }>;
  /** Every field path shown, over all results (policy paths: never a free-form name of the publisher's). */
  fields: string[];
}

export interface Searcher {
  requesterKind: string;
  role: string;
  purpose: string;
}

/** Without an identifier that agrees, a searcher learns who to call, never what the flag says. */
const POSSIBLE_FIELDS: ReadonlySet<string> = new Set(['flag', 'contact']);

const rank = (m: Match) => (m === 'exact' ? 0 : 1);

interface Shown {
  flag: StoredFlag;
  match: Match;
  decision: CategoryDecision;
  released: { details?: FlagDetails; contact?: FlagContact };
  paths: string[];
}

function order(a: Shown, b: Shown): number {
  return (
    rank(a.match) - rank(b.match) ||
    FLAG_TYPES.indexOf(a.flag.flag) - FLAG_TYPES.indexOf(b.flag.flag) ||
    a.flag.agencyId.localeCompare(b.flag.agencyId) ||
    a.flag.validFrom.localeCompare(b.flag.validFrom)
  );
}

/** One candidate as this searcher may see it, or undefined when it does not match or may not be seen. */
function show(
  searcher: Searcher,
  bundle: Bundle,
  searched: IdentityHashes,
  flag: StoredFlag,
): Shown | undefined {
  const match = matchOf(searched, flag.hashes);
  if (!match) return undefined;
  const decision = decideOne(
    bundle,
    {
      requesterKind: searcher.requesterKind,
      role: searcher.role,
      holderKind: flag.agencyKind,
      purpose: searcher.purpose,
    },
    'flags',
  );
  if (decision.decision !== 'permit') return undefined;
  const policyFields = decision.flagFields?.[flag.flag] ?? [];
  if (!policyFields.includes('flag')) return undefined;
  const fields = match === 'exact' ? policyFields : policyFields.filter((f) => POSSIBLE_FIELDS.has(f));
  const payload = {
    flag: flag.flag,
    ...(flag.details ? { details: flag.details } : {}),
    contact: flag.contact,
  };
  const filtered = filterPayload<Shown['released']>(payload, fields);
  return { flag, match, decision, released: filtered.released, paths: filtered.releasedPaths };
}

/**
 * Pure: which of the candidate flags a searcher sees, and how much of each. A candidate must match
 * (matchOf), and the policy must permit the `flags` category for this searcher and purpose with the
 * publishing agency's kind as holder, covering this flag type (flagFields) and sharing at least `flag`.
 * What is shown of it is the policy's field list for the type, cut to flag and contact for a possible
 * match. The overall match is the best shown: flags found but not shown leave no trace in the answer.
 */
export function disclose(
  searcher: Searcher,
  bundle: Bundle,
  searched: IdentityHashes,
  candidates: readonly StoredFlag[],
  agencies: { agency(id: string): { name: string } | undefined },
): Disclosure {
  const shown = candidates
    .map((flag) => show(searcher, bundle, searched, flag))
    .filter((s): s is Shown => s !== undefined)
    .sort(order);
  const results = shown.map(({ flag, match, released }): FlagResultT => {
    const details =
      released.details && Object.keys(released.details).length > 0 ? released.details : undefined;
    return {
      flag: flag.flag,
      match,
      agency: {
        id: flag.agencyId,
        name: agencies.agency(flag.agencyId)?.name ?? flag.agencyId,
        kind: flag.agencyKind as AgencyKind,
      },
      ...(details ? { details } : {}),
      ...(released.contact ? { contact: released.contact } : {}),
      validFrom: flag.validFrom,
      ...(flag.validTo ? { validTo: flag.validTo } : {}),
    };
  });
  return {
    match: shown[0]?.match ?? 'none',
    results,
    shown: shown.map(({ flag, match, decision }) => ({ flag, match, decision })),
    fields: [...new Set(shown.flatMap((s) => s.paths))],
  };
}
