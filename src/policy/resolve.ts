import type { Within } from '../calendar/index.js';
import { type AgencyKind, practiceRoles, roleBelongsToKind } from '../identity/roles.js';
import {
  type Category,
  FLAG_PUBLISHERS,
  FLAG_TYPES,
  FLAGS_CATEGORY,
  type FlagType,
  holds,
  leafPaths,
  OVERRIDE_REASONS,
  type OverrideReason,
} from './catalogue.js';
import type { Merge, PolicyRule, Resolved } from './types.js';

/**
 * Load-time work that makes `decide` a lookup: every rule is expanded to the (purpose, holder kind,
 * requester kind, role) keys it matches, and each key's categories are merged once.
 */

export function indexKey(purpose: string, holderKind: string, requesterKind: string, role: string): string {
  return `${purpose}\u0000${holderKind}\u0000${requesterKind}\u0000${role}`;
}

function rolesFor(rule: PolicyRule, kind: AgencyKind): readonly string[] {
  return rule.requester.roles
    ? rule.requester.roles.filter((r) => roleBelongsToKind(r, kind))
    : practiceRoles(kind);
}

/**
 * Working days are compared as 24 hours each: the shortest a working-day deadline can be (receipt at
 * 23:59:59, answer by the end of the next working day). So `{ hours: h }` is at least as strict as
 * `{ workingDays: d }` whenever h <= 24 d, and wins a tie because it is the more precise promise.
 */
export function withinHours(w: Within): number {
  return 'hours' in w ? w.hours : w.workingDays * 24;
}

export function stricter(a: Within | undefined, b: Within | undefined): Within | undefined {
  if (!a) return b;
  if (!b) return a;
  const ha = withinHours(a);
  const hb = withinHours(b);
  if (ha !== hb) return ha < hb ? a : b;
  return 'hours' in a ? a : b;
}

/** Orders field paths as the catalogue lists them; a free-form `details.x` follows its parent. */
function sortFields(category: Category, fields: Iterable<string>): string[] {
  const order = leafPaths(category);
  const rank = (p: string): number => {
    const i = order.indexOf(p);
    return i >= 0 ? i : order.indexOf(p.slice(0, p.indexOf('.')));
  };
  return [...fields].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A union of paths where `details` already covers `details.level`. */
function normalise(category: Category, fields: Set<string>): readonly string[] {
  const kept = [...fields].filter((p) => {
    const dot = p.indexOf('.');
    return dot < 0 || !fields.has(p.slice(0, dot));
  });
  return Object.freeze(sortFields(category, kept));
}

function flagTypesOf(rule: PolicyRule, holderKind: AgencyKind): FlagType[] {
  const publishable = FLAG_TYPES.filter((f) =>
    (FLAG_PUBLISHERS[f] as readonly string[]).includes(holderKind),
  );
  return rule.flagTypes ? publishable.filter((f) => rule.flagTypes!.includes(f)) : publishable;
}

function merge(
  rules: readonly PolicyRule[],
  category: Category,
  holderKind: AgencyKind,
  deniedFlags: ReadonlySet<FlagType>,
): Merge | undefined {
  const ruleIds: string[] = [];
  const fields = new Set<string>();
  const bases: string[] = [];
  const perFlag = new Map<FlagType, Set<string>>();
  let respondWithin: Within | undefined;
  for (const rule of rules) {
    const paths = rule.share[category]!;
    if (category === FLAGS_CATEGORY) {
      const types = flagTypesOf(rule, holderKind).filter((f) => !deniedFlags.has(f));
      if (types.length === 0) continue;
      for (const f of types) {
        const set = perFlag.get(f) ?? new Set<string>();
        for (const p of paths) set.add(p);
        perFlag.set(f, set);
      }
    }
    ruleIds.push(rule.id);
    for (const p of paths) fields.add(p);
    for (const b of rule.lawfulBasis) if (!bases.includes(b)) bases.push(b);
    respondWithin = stricter(respondWithin, rule.respondWithin);
  }
  if (ruleIds.length === 0) return undefined;
  const result: Merge = {
    ruleIds: Object.freeze([...ruleIds].sort()),
    fields: normalise(category, fields),
    lawfulBasis: Object.freeze(bases),
    ...(respondWithin ? { respondWithin: Object.freeze({ ...respondWithin }) } : {}),
  };
  if (category === FLAGS_CATEGORY) {
    const flagFields: Partial<Record<FlagType, readonly string[]>> = {};
    for (const f of FLAG_TYPES) {
      const set = perFlag.get(f);
      if (set) flagFields[f] = normalise(category, set);
    }
    result.flagFields = Object.freeze(flagFields);
  }
  return Object.freeze(result);
}

function resolve(
  rules: readonly PolicyRule[],
  category: Category,
  holderKind: AgencyKind,
): Resolved | undefined {
  const denies = rules.filter((r) => r.effect === 'deny');
  const permits = rules.filter((r) => r.effect === 'permit');
  // A deny on flags limited to some flag types removes those types; any other deny refuses the category.
  const deniedFlags = new Set<FlagType>();
  const wholeDenies: string[] = [];
  for (const d of denies) {
    if (category === FLAGS_CATEGORY && d.flagTypes) {
      for (const f of flagTypesOf(d, holderKind)) deniedFlags.add(f);
    } else {
      wholeDenies.push(d.id);
    }
  }
  if (wholeDenies.length > 0) {
    return Object.freeze({
      denyRuleIds: Object.freeze(wholeDenies.sort()),
      consentRuleIds: [],
      allowOverride: false,
    });
  }
  const free = permits.filter((r) => r.consent === 'not_required');
  const needsConsent = permits.filter((r) => r.consent === 'required');
  const overridable = needsConsent.filter((r) => r.allowOverride);
  const noConsent = merge(free, category, holderKind, deniedFlags);
  const withConsent = merge(permits, category, holderKind, deniedFlags);
  const withOverride = merge([...free, ...overridable], category, holderKind, deniedFlags);
  const withOverrideFor: Partial<Record<OverrideReason, Merge>> = {};
  for (const reason of OVERRIDE_REASONS) {
    const accepting = overridable.filter((r) => !r.overrideReasons || r.overrideReasons.includes(reason));
    const m = merge([...free, ...accepting], category, holderKind, deniedFlags);
    if (m) withOverrideFor[reason] = m;
  }
  const partialDenyIds = denies.map((d) => d.id).sort();
  if (!withConsent) {
    // Every permitted flag type is denied: report the denies that did it.
    return partialDenyIds.length > 0 && permits.length > 0
      ? Object.freeze({
          denyRuleIds: Object.freeze(partialDenyIds),
          consentRuleIds: [],
          allowOverride: false,
        })
      : undefined;
  }
  const consentIds = needsConsent.map((r) => r.id).filter((id) => withConsent.ruleIds.includes(id));
  return Object.freeze({
    ...(noConsent ? { noConsent } : {}),
    withConsent,
    ...(withOverride ? { withOverride } : {}),
    withOverrideFor: Object.freeze(withOverrideFor),
    consentRuleIds: Object.freeze(consentIds.sort()),
    allowOverride: overridable.some((r) => withConsent.ruleIds.includes(r.id)),
  });
}

export function buildIndex(rules: readonly PolicyRule[]): Map<string, Map<Category, Resolved>> {
  const byKey = new Map<string, { holderKind: AgencyKind; rules: PolicyRule[] }>();
  for (const rule of rules) {
    for (const purpose of rule.purposes) {
      for (const holderKind of rule.holder.agencyKinds) {
        for (const kind of rule.requester.agencyKinds) {
          for (const role of rolesFor(rule, kind)) {
            const key = indexKey(purpose, holderKind, kind, role);
            const entry = byKey.get(key) ?? { holderKind, rules: [] };
            entry.rules.push(rule);
            byKey.set(key, entry);
          }
        }
      }
    }
  }
  const index = new Map<string, Map<Category, Resolved>>();
  for (const [key, { holderKind, rules: matching }] of byKey) {
    const categories = new Set<Category>();
    for (const r of matching) {
      for (const c of Object.keys(r.share) as Category[]) if (holds(holderKind, c)) categories.add(c);
    }
    const perCategory = new Map<Category, Resolved>();
    for (const c of categories) {
      const resolved = resolve(
        matching.filter((r) => r.share[c] !== undefined),
        c,
        holderKind,
      );
      if (resolved) perCategory.set(c, resolved);
    }
    index.set(key, perCategory);
  }
  return index;
}
