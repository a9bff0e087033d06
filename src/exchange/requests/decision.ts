import { type ApplicableConsent, consentCoverage } from '../../consent/index.js';
import type { Subject } from '../../http/subject.js';
import {
  type CategoryDecision,
  type ConsentInput,
  type Decision,
  decide,
  filterPayload,
  type OverrideReason,
  type PolicySource,
} from '../../policy/index.js';
import type { Queryable } from '../../store/index.js';
import type { RefusalT } from './schemas.js';
import type { ConsentClaim } from './store.js';

export interface DecisionQuery {
  requesterAgency: string;
  requesterKind: string;
  role: string;
  holder: { id: string; kind: string };
  purpose: string;
  subject: Subject;
  categories: readonly string[];
  claim?: ConsentClaim | undefined;
  override?: OverrideReason | undefined;
}

export interface Decided {
  decision: Decision;
  byCategory: Map<string, CategoryDecision>;
  /** Category -> the consent record that decided it (the most recent applicable one). */
  records: Map<string, ApplicableConsent>;
}

/**
 * The policy's decision now, with the consent registry as it is now: at creation, again at release, and
 * again at each read. A refusal the requester states counts as one on record; a consent record the
 * requester names does not choose which record applies (contract section 8: the most recent does).
 */
export async function decideNow(policies: PolicySource, tx: Queryable, q: DecisionQuery): Promise<Decided> {
  const coverage = await consentCoverage(tx, {
    subject: q.subject,
    purpose: q.purpose,
    requesterAgency: q.requesterAgency,
    holderAgency: q.holder.id,
    categories: q.categories,
    at: new Date(),
  });
  const statedRefusal = q.claim?.status === 'refused';
  const decision = decide(policies.current(), {
    requesterKind: q.requesterKind,
    role: q.role,
    holderKind: q.holder.kind,
    purpose: q.purpose,
    categories: q.categories,
    consent: (category): ConsentInput => {
      const status = coverage.get(category)?.record?.status;
      return { covered: status === 'given', refused: status === 'refused' || statedRefusal };
    },
    override: q.override ?? false,
  });
  const records = new Map<string, ApplicableConsent>();
  for (const [category, c] of coverage) if (c.record) records.set(category, c.record);
  return { decision, byCategory: new Map(decision.categories.map((d) => [d.category, d])), records };
}

/**
 * The consent records that decided some of `categories`, for a ledger entry: `consentId` is the most
 * recent of them, `consentIds` lists them all when there are several.
 */
export function consentRecordsOf(
  decided: Decided,
  categories: readonly string[],
): { consentId?: string; consentIds?: string[] } {
  const byId = new Map<string, ApplicableConsent>();
  for (const c of categories) {
    const r = decided.records.get(c);
    if (r) byId.set(r.id, r);
  }
  const ids = [...byId.values()]
    .sort((a, b) => Date.parse(b.recordedAt) - Date.parse(a.recordedAt) || a.id.localeCompare(b.id))
    .map((r) => r.id);
  if (ids.length === 0) return {};
  return ids.length === 1
    ? { consentId: ids[0] as string }
    : { consentId: ids[0] as string, consentIds: ids };
}

/** The request's overall consent outcome: the one a reader most needs to know about wins. */
const CONSENT_PRIORITY = ['overridden', 'refused_not_required', 'given', 'not_required'] as const;

export function overallConsent(granted: CategoryDecision[]): { status: string; basis: string } {
  for (const status of CONSENT_PRIORITY) {
    const d = granted.find((c) => c.consentStatus?.status === status);
    if (d?.consentStatus) return { ...d.consentStatus };
  }
  return { status: 'not_required', basis: 'lawful basis without consent' };
}

export function refusalsOf(decisions: CategoryDecision[]): RefusalT[] {
  return decisions
    .filter((d) => d.decision === 'deny')
    .map((d) => ({
      category: d.category,
      code: d.code ?? 'policy_denied',
      ...(d.ruleIds[0] ? { ruleId: d.ruleIds[0] } : {}),
      message: d.message,
    }));
}

/**
 * What of one category's payload a decision lets through. For `flags` the fields depend on the flag
 * type: a type the rule does not cover releases nothing. A permitted answer that holds nothing
 * (`{ items: [] }`: no incidents on record) is an answer too, and is shown rather than dropped.
 */
export function releaseOf(d: CategoryDecision | undefined, payload: unknown) {
  let fields: readonly string[] = [];
  if (d?.decision === 'permit') {
    const flag = (payload as { flag?: unknown } | null)?.flag;
    fields = d.flagFields
      ? typeof flag === 'string'
        ? (d.flagFields[flag as keyof typeof d.flagFields] ?? [])
        : []
      : d.fields;
  }
  const filtered = filterPayload(payload, fields);
  const emptyAnswer = d?.decision === 'permit' && filtered.withheldPaths.length === 0;
  return { ...filtered, shown: filtered.releasedPaths.length > 0 || emptyAnswer };
}
