import type { Within } from '../calendar/index.js';
import type { AgencyKind, PractitionerRole } from '../identity/roles.js';
import type { Category, FlagType, OverrideReason, Purpose } from './catalogue.js';

export type Effect = 'permit' | 'deny';
export type ConsentRequirement = 'required' | 'not_required';

/** A rule as written, with defaults applied, and where it was written. */
export interface PolicyRule {
  id: string;
  description: string;
  effect: Effect;
  purposes: Purpose[];
  requester: { agencyKinds: AgencyKind[]; roles?: PractitionerRole[] };
  holder: { agencyKinds: AgencyKind[] };
  lawfulBasis: string[];
  consent: ConsentRequirement;
  allowOverride: boolean;
  /** With allowOverride: the reasons that count; absent = every reason. */
  overrideReasons?: OverrideReason[];
  respondWithin?: Within;
  flagTypes?: FlagType[];
  /** Category -> concrete field paths ("*" and list groups such as `items` already expanded). */
  share: Partial<Record<Category, string[]>>;
  /** As written: `"*"` or the paths the author listed. */
  shareAsWritten: Partial<Record<Category, string[] | '*'>>;
  file: string;
  line: number;
}

export interface BundleError {
  file: string;
  line: number;
  message: string;
}

/** The merged effect of the permits that contribute to one category for one (purpose, kinds, role). */
export interface Merge {
  ruleIds: readonly string[];
  fields: readonly string[];
  lawfulBasis: readonly string[];
  respondWithin?: Within;
  /** flags only: the fields released for each flag type the merge covers. */
  flagFields?: Readonly<Partial<Record<FlagType, readonly string[]>>>;
}

/** Everything needed to decide one category for one (purpose, holder kind, requester kind, role). */
export interface Resolved {
  denyRuleIds?: readonly string[];
  /** Permits that need no consent. */
  noConsent?: Merge;
  /** Every permit: what a covering consent unlocks. */
  withConsent?: Merge;
  /** Permits that need no consent, plus consent permits that allow an override (of any reason). */
  withOverride?: Merge;
  /** The same for an override of one reason: only the rules that accept that reason. */
  withOverrideFor?: Readonly<Partial<Record<OverrideReason, Merge>>>;
  consentRuleIds: readonly string[];
  allowOverride: boolean;
}

export interface Bundle {
  /** SHA-256 hex of the canonical content (files sorted, rules as canonical JSON, RFC 8785). */
  version: string;
  rules: readonly PolicyRule[];
  /** (purpose, holder kind, requester kind, role) -> category -> resolved decision; built at load time. */
  index: ReadonlyMap<string, ReadonlyMap<Category, Resolved>>;
}
