import type { Within } from '../calendar/index.js';
import { type Category, type FlagType, holds, isCategory, type OverrideReason } from './catalogue.js';
import { indexKey, stricter } from './resolve.js';
import type { Bundle, ConsentRequirement, Merge, Resolved } from './types.js';

/**
 * The policy decision: pure, and a lookup in the index the loader built. Default deny; any matching deny
 * wins; permits unite. Consent gates each permit rule on its own: a rule with `consent: not_required`
 * contributes whatever the consent state, a rule with `consent: required` only when a given consent
 * covers the category, or when an override is requested and that rule allows one.
 */

/** What the consent registry knows for one category (the lookup is the caller's). */
export interface ConsentInput {
  /** An active `given` consent covers subject + purpose + holder agency + this category. */
  covered: boolean;
  /** A refusal is on record for this subject and purpose. */
  refused?: boolean;
}

export type ConsentLookup =
  | Readonly<Partial<Record<string, ConsentInput>>>
  | ((category: string) => ConsentInput | undefined);

export interface DecisionInput {
  requesterKind: string;
  role: string;
  holderKind: string;
  purpose: string;
  categories: readonly string[];
  /** Absent, or absent for a category: no consent covers it and no refusal is recorded. */
  consent?: ConsentLookup;
  /**
   * The request carries an override: its reason, so that only rules accepting that reason count, or
   * `true` for an override of any reason a rule accepts (explain's "what if").
   */
  override?: boolean | OverrideReason;
}

export type ConsentStatus =
  | 'given'
  | 'not_required'
  | 'refused_not_required'
  | 'overridden'
  | 'missing'
  | 'refused';

export interface ConsentOutcome {
  status: ConsentStatus;
  /** What the sharing rests on: `consent`, `override`, `lawful basis without consent`, or `none`. */
  basis: 'consent' | 'override' | 'lawful basis without consent' | 'none';
}

export type DenialCode = 'policy_denied' | 'consent_required';

export interface CategoryDecision {
  category: string;
  decision: 'permit' | 'deny';
  code?: DenialCode;
  /** Permits that contributed; the winning denies; or the permits that needed the missing consent. */
  ruleIds: readonly string[];
  /** Concrete field paths released ([] when denied). */
  fields: readonly string[];
  lawfulBasis: readonly string[];
  /** The consent requirement that applied; null when no permit matched. */
  consent: ConsentRequirement | null;
  consentStatus: ConsentOutcome | null;
  /** Whether an override could stand in for a missing consent. */
  allowOverride: boolean;
  respondWithin?: Within;
  /** flags only: the flag types released, and the fields released for each. */
  flagTypes?: readonly FlagType[];
  flagFields?: Readonly<Partial<Record<FlagType, readonly string[]>>>;
  /** Safe to show to the caller: names categories, purposes and rules, never a person. */
  message: string;
}

export interface Decision {
  policyVersion: string;
  categories: CategoryDecision[];
  /** The permitted categories, in the order asked. */
  granted: string[];
  /** Union of the lawful bases of the permitted categories. */
  lawfulBasis: string[];
  /** The strictest respondWithin among the permitted categories. */
  respondWithin?: Within;
}

const EMPTY: readonly string[] = Object.freeze([]);
const NO_CONSENT: ConsentInput = Object.freeze({ covered: false });

function consentFor(lookup: ConsentLookup | undefined, category: string): ConsentInput {
  if (!lookup) return NO_CONSENT;
  const found = typeof lookup === 'function' ? lookup(category) : lookup[category];
  return found ?? NO_CONSENT;
}

function policyDenied(
  category: string,
  message: string,
  ruleIds: readonly string[] = EMPTY,
): CategoryDecision {
  return {
    category,
    decision: 'deny',
    code: 'policy_denied',
    ruleIds,
    fields: EMPTY,
    lawfulBasis: EMPTY,
    consent: null,
    consentStatus: null,
    allowOverride: false,
    message,
  };
}

function permitted(
  category: string,
  merge: Merge,
  consent: ConsentRequirement,
  consentStatus: ConsentOutcome,
  allowOverride: boolean,
): CategoryDecision {
  const d: CategoryDecision = {
    category,
    decision: 'permit',
    ruleIds: merge.ruleIds,
    fields: merge.fields,
    lawfulBasis: merge.lawfulBasis,
    consent,
    consentStatus,
    allowOverride,
    message: `permitted by ${merge.ruleIds.join(', ')}`,
  };
  if (merge.respondWithin) d.respondWithin = merge.respondWithin;
  if (merge.flagFields) {
    d.flagFields = merge.flagFields;
    d.flagTypes = Object.keys(merge.flagFields) as FlagType[];
  }
  return d;
}

const GIVEN: ConsentOutcome = Object.freeze({ status: 'given', basis: 'consent' });
const OVERRIDDEN: ConsentOutcome = Object.freeze({ status: 'overridden', basis: 'override' });
const NOT_REQUIRED: ConsentOutcome = Object.freeze({
  status: 'not_required',
  basis: 'lawful basis without consent',
});
const REFUSED_NOT_REQUIRED: ConsentOutcome = Object.freeze({
  status: 'refused_not_required',
  basis: 'lawful basis without consent',
});

function decideCategory(
  resolved: Resolved,
  category: string,
  purpose: string,
  consent: ConsentInput,
  override: boolean | OverrideReason,
): CategoryDecision {
  if (resolved.denyRuleIds) {
    return policyDenied(category, `denied by ${resolved.denyRuleIds.join(', ')}`, resolved.denyRuleIds);
  }
  const needsConsent = resolved.consentRuleIds.length > 0;
  if (needsConsent && consent.covered && resolved.withConsent) {
    return permitted(category, resolved.withConsent, 'required', GIVEN, resolved.allowOverride);
  }
  // An override only counts when it unlocks something the consent-free rules do not already give.
  const unlocked =
    override === true ? resolved.withOverride : override ? resolved.withOverrideFor?.[override] : undefined;
  if (
    needsConsent &&
    resolved.allowOverride &&
    unlocked &&
    unlocked.ruleIds.length > (resolved.noConsent?.ruleIds.length ?? 0)
  ) {
    return permitted(category, unlocked, 'required', OVERRIDDEN, true);
  }
  if (resolved.noConsent) {
    return permitted(
      category,
      resolved.noConsent,
      'not_required',
      consent.refused ? REFUSED_NOT_REQUIRED : NOT_REQUIRED,
      resolved.allowOverride,
    );
  }
  const refused = consent.refused === true;
  return {
    category,
    decision: 'deny',
    code: 'consent_required',
    ruleIds: resolved.consentRuleIds,
    fields: EMPTY,
    lawfulBasis: EMPTY,
    consent: 'required',
    consentStatus: { status: refused ? 'refused' : 'missing', basis: 'none' },
    allowOverride: resolved.allowOverride,
    message:
      `consent is required to share ${category} for ${purpose} and none covers it` +
      (refused ? ' (a refusal is recorded)' : '') +
      (override && !resolved.allowOverride
        ? '; the policy does not allow an override'
        : typeof override === 'string' && resolved.allowOverride
          ? `; the policy does not accept an override for ${override}`
          : resolved.allowOverride
            ? '; an override is allowed'
            : ''),
  };
}

/** Decides one category; exported for callers that check categories one at a time (flag search). */
export function decideOne(
  bundle: Bundle,
  input: Omit<DecisionInput, 'categories'>,
  category: string,
): CategoryDecision {
  const perCategory = bundle.index.get(
    indexKey(input.purpose, input.holderKind, input.requesterKind, input.role),
  );
  const resolved = perCategory?.get(category as Category);
  if (!resolved) {
    const reason =
      isCategory(category) && isKnownHolder(input.holderKind) && !holds(input.holderKind, category)
        ? `${category} is not held by a ${input.holderKind} agency`
        : `no policy permits sharing ${category} for ${input.purpose} with this requester`;
    return policyDenied(category, reason);
  }
  return decideCategory(
    resolved,
    category,
    input.purpose,
    consentFor(input.consent, category),
    input.override ?? false,
  );
}

function isKnownHolder(kind: string): kind is 'health' | 'police' | 'probation' | 'children_social_care' {
  return kind === 'health' || kind === 'police' || kind === 'probation' || kind === 'children_social_care';
}

export function decide(bundle: Bundle, input: DecisionInput): Decision {
  const categories: CategoryDecision[] = [];
  const granted: string[] = [];
  const lawfulBasis: string[] = [];
  let respondWithin: Within | undefined;
  for (const category of input.categories) {
    const d = decideOne(bundle, input, category);
    categories.push(d);
    if (d.decision === 'permit') {
      granted.push(category);
      for (const b of d.lawfulBasis) if (!lawfulBasis.includes(b)) lawfulBasis.push(b);
      respondWithin = stricter(respondWithin, d.respondWithin);
    }
  }
  return {
    policyVersion: bundle.version,
    categories,
    granted,
    lawfulBasis,
    ...(respondWithin ? { respondWithin } : {}),
  };
}

export interface ExplainEntry {
  decision: 'permit' | 'deny';
  code?: DenialCode;
  ruleIds: string[];
  fields: string[];
  lawfulBasis: string[];
  consent: ConsentRequirement | null;
  consentStatus: ConsentOutcome | null;
  allowOverride: boolean;
  respondWithin?: Within;
  flagTypes?: string[];
  message: string;
}

/** What a requester would get, per category (POST /v1/policies/explain, `sgw policy explain`). */
export function explain(bundle: Bundle, input: DecisionInput): Record<string, ExplainEntry> {
  const out: Record<string, ExplainEntry> = {};
  for (const d of decide(bundle, input).categories) {
    out[d.category] = {
      decision: d.decision,
      ...(d.code ? { code: d.code } : {}),
      ruleIds: [...d.ruleIds],
      fields: [...d.fields],
      lawfulBasis: [...d.lawfulBasis],
      consent: d.consent,
      consentStatus: d.consentStatus ? { ...d.consentStatus } : null,
      allowOverride: d.allowOverride,
      ...(d.respondWithin ? { respondWithin: { ...d.respondWithin } } : {}),
      ...(d.flagTypes ? { flagTypes: [...d.flagTypes] } : {}),
      message: d.message,
    };
  }
  return out;
}
