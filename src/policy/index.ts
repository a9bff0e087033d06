export {
  CATEGORIES,
  CATEGORY_NAMES,
  type Category,
  categoriesHeldBy,
  categorySchema,
  expandPath,
  FLAG_PUBLISHERS,
  FLAG_TYPES,
  type FlagType,
  holds,
  isCategory,
  isFlagType,
  isPurpose,
  leafPaths,
  OVERRIDE_REASONS,
  type OverrideReason,
  type PayloadError,
  PURPOSES,
  type Purpose,
  validateCategoryPayload,
} from './catalogue.js';
export {
  type CategoryDecision,
  type ConsentInput,
  type ConsentLookup,
  type ConsentOutcome,
  type ConsentStatus,
  type Decision,
  type DecisionInput,
  type DenialCode,
  decide,
  decideOne,
  type ExplainEntry,
  explain,
} from './decide.js';
export { type FilterResult, filterPayload } from './filter.js';
export { buildBundle, bundleFiles, type LoadResult, loadBundle } from './loader.js';
export { type PolicyTestReport, type PolicyTestResult, runPolicyTests } from './policy-tests.js';
export { stricter } from './resolve.js';
export { type PolicyRoutesOptions, policyRoutes } from './routes.js';
export { RULE_SCHEMA, RULE_SCHEMA_ID } from './rule-schema.js';
export {
  PolicyBundleError,
  type PolicyLogger,
  type PolicySource,
  PolicyStore,
  type PolicyStoreOptions,
} from './store.js';
export type { Bundle, BundleError, ConsentRequirement, Effect, PolicyRule } from './types.js';
