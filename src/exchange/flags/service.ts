import { randomUUID } from 'node:crypto';
import { validityBound } from '../../calendar/index.js';
import { AppError, conflict, type FieldError, notFound } from '../../http/errors.js';
import { isUuid } from '../../http/schema.js';
import { checkSubject, checkSubjectInto, identifiersOf, type Subject } from '../../http/subject.js';
import { type AgencyKind, actorOf, type Practitioner } from '../../identity/index.js';
import {
  type Ledger,
  type LedgerEntryInput,
  type OutboxEventInput,
  recordedTransaction,
} from '../../ledger/index.js';
import { FLAG_PUBLISHERS, type FlagType, type PolicySource } from '../../policy/index.js';
import type { Db } from '../../store/index.js';
import { unique } from '../unique.js';
import { identityHashes, subjectKeyOf } from './match.js';
import type { PublishBodyT, SearchBodyT, SearchReplyT, SubjectAnswerT } from './schemas.js';
import { type Disclosure, disclose } from './search.js';
import { candidateFlags, endFlag, findFlagForUpdate, upsertFlag } from './store.js';

export interface FlagServiceDeps {
  db: Db;
  ledger: Pick<Ledger, 'append' | 'keyedHash'>;
  policies: PolicySource;
  /** The directory, for the publishing agency's name in a search result. */
  agencies: { agency(id: string): { name: string } | undefined };
  /** The gateway's clock: which flags are in force, and when things happened; tests may set it. */
  now?: () => Date;
}

/**
 * Who a flag of each type may be about. The unborn child's plan is the flag on the mother (as in NHS
 * CP-IS): an `unborn` subject identified by her identifiers, or the mother herself, who may be under 18.
 */
const SUBJECT_TYPES: Record<FlagType, readonly Subject['type'][]> = {
  child_protection_plan: ['child'],
  looked_after_child: ['child'],
  unborn_child_protection_plan: ['unborn', 'adult', 'child'],
  mappa_managed: ['adult'],
  risk_to_children: ['adult'],
  registered_sex_offender: ['adult'],
};

/** The flags about a child: finding one tells the publisher who looked (as NHS CP-IS does). */
const CHILD_FLAGS: ReadonlySet<FlagType> = new Set([
  'child_protection_plan',
  'looked_after_child',
  'unborn_child_protection_plan',
]);

/** A flag's details are a few facts, not a case file. */
export const MAX_DETAILS_JSON = 16 * 1024;

const invalid = (errors: FieldError[]) =>
  new AppError('validation_failed', 'The request is not valid.', { errors });

/** The agency kinds that may publish some flag type, and so the route's roles. */
export const PUBLISHING_KINDS: readonly AgencyKind[] = unique(
  Object.values(FLAG_PUBLISHERS).flat() as AgencyKind[],
);

export class FlagService {
  private readonly now: () => Date;

  constructor(private readonly deps: FlagServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private hashes(subject: Subject) {
    return identityHashes(subject, (tagged) => this.deps.ledger.keyedHash(tagged));
  }

  /** The checks JSON Schema cannot make: who may publish the type, the subject it needs, real dates. */
  private checkPublication(p: Practitioner, body: PublishBodyT) {
    if (!(FLAG_PUBLISHERS[body.flag] as readonly string[]).includes(p.kind)) {
      throw new AppError('forbidden', `An agency of kind ${p.kind} may not publish ${body.flag} flags.`);
    }
    const errors: FieldError[] = [];
    const subject = checkSubjectInto(errors, body.subject, '/subject');
    const allowed = SUBJECT_TYPES[body.flag];
    if (!allowed.includes(body.subject.type)) {
      const list = allowed.map((x) => `"${x}"`).join(' or ');
      errors.push({ path: '/subject/type', message: `must be ${list} for a ${body.flag} flag` });
    }
    const validFrom = validityBound(body.validFrom, 'from');
    const validTo = body.validTo === undefined ? undefined : validityBound(body.validTo, 'to');
    if (!validFrom) errors.push({ path: '/validFrom', message: 'is not a real date or time' });
    if (body.validTo !== undefined && !validTo) {
      errors.push({ path: '/validTo', message: 'is not a real date or time' });
    } else if (validFrom && validTo && Date.parse(validTo) <= Date.parse(validFrom)) {
      errors.push({ path: '/validTo', message: 'must be after validFrom' });
    }
    if (body.details && JSON.stringify(body.details).length > MAX_DETAILS_JSON) {
      errors.push({ path: '/details', message: `must be at most ${MAX_DETAILS_JSON} characters as JSON` });
    }
    if (errors.length > 0) throw invalid(errors);
    return { subject, validFrom: validFrom as string, validTo };
  }

  /** PUT /v1/flags: a new flag (created) or the agency's live flag of this type for this subject, updated. */
  async publish(p: Practitioner, body: PublishBodyT): Promise<{ id: string; created: boolean }> {
    const { subject, validFrom, validTo } = this.checkPublication(p, body);
    const hashes = this.hashes(subject);
    const subjectKey = subjectKeyOf(hashes);
    // checkSubject has made sure of at least one identifier.
    if (subjectKey === undefined) throw new Error('a checked subject has no identifier');
    const policyVersion = this.deps.policies.current().version;
    return recordedTransaction(this.deps.db, async (tx) => {
      const written = await upsertFlag(tx, {
        id: randomUUID(),
        agencyId: p.agency,
        agencyKind: p.kind,
        flag: body.flag,
        subjectType: subject.type,
        subjectKey,
        hashes,
        ...(body.details ? { details: body.details } : {}),
        contact: body.contact,
        validFrom,
        ...(validTo ? { validTo } : {}),
        at: this.now(),
        bySub: p.sub,
      });
      await this.deps.ledger.append(tx, {
        entries: [
          {
            action: 'flag.published',
            actor: actorOf(p),
            flagId: written.id,
            subject: identifiersOf(subject),
            decision: 'permit',
            ruleIds: [],
            policyVersion,
            categories: ['flags'],
            fields: { flags: ['flag', ...(body.details ? ['details'] : []), 'contact'] },
            outcome: written.created ? 'created' : 'updated',
          },
        ],
      });
      return written;
    });
  }

  /** DELETE /v1/flags/:id: the publisher ends its flag; it stays as history and leaves every search. */
  async end(p: Practitioner, id: string) {
    if (!isUuid(id)) throw notFound();
    const policyVersion = this.deps.policies.current().version;
    return recordedTransaction(this.deps.db, async (tx) => {
      const flag = await findFlagForUpdate(tx, id);
      if (!flag || flag.agencyId !== p.agency) throw notFound();
      if (flag.endedAt) throw conflict('The flag has already ended.');
      const at = this.now();
      await endFlag(tx, id, at, p.sub);
      await this.deps.ledger.append(tx, {
        entries: [
          {
            action: 'flag.ended',
            actor: actorOf(p),
            flagId: id,
            // The flag record keeps no identifier to hash; flag.published under the same flagId has them.
            subject: null,
            decision: 'permit',
            ruleIds: [],
            policyVersion,
            categories: ['flags'],
          },
        ],
      });
      return { id, status: 'ended' as const, endedAt: at.toISOString() };
    });
  }

  /**
   * POST /v1/flags/search: one subject or a household. Each subject is one indexed query, one answer
   * and one `flag.searched` entry; every child's flag shown to another agency is one `flag.accessed` to
   * its publisher. All in one transaction: no answer without its record.
   */
  async search(p: Practitioner, body: SearchBodyT): Promise<SearchReplyT> {
    const subjects = this.searchSubjects(body);
    const hashes = subjects.map((s) => this.hashes(s));
    const bundle = this.deps.policies.current();
    const caseReference = body.caseReference ? { caseReference: body.caseReference } : {};
    return recordedTransaction(this.deps.db, async (tx) => {
      const now = this.now();
      const answers: SubjectAnswerT[] = [];
      const entries: LedgerEntryInput[] = [];
      const accessed = new Map<string, Disclosure['shown'][number]>();
      for (const [i, subject] of subjects.entries()) {
        const searched = hashes[i] ?? {};
        const found = await candidateFlags(tx, searched, now);
        const d = disclose(
          { requesterKind: p.kind, role: p.role, purpose: body.purpose },
          bundle,
          searched,
          found,
          this.deps.agencies,
        );
        answers.push({ match: d.match, results: d.results });
        entries.push(this.searchedEntry(p, body, subject, d, bundle.version));
        for (const s of d.shown) {
          if (!CHILD_FLAGS.has(s.flag.flag) || s.flag.agencyId === p.agency) continue;
          // A child named twice in a household is one access, told as its best match.
          if (accessed.get(s.flag.id)?.match !== 'exact') accessed.set(s.flag.id, s);
        }
      }
      const events: OutboxEventInput[] = [...accessed.values()].map((s) => ({
        agency: s.flag.agencyId,
        type: 'flag.accessed',
        data: {
          flagId: s.flag.id,
          flagType: s.flag.flag,
          match: s.match,
          searcherAgency: p.agency,
          searcherRole: p.role,
          searcherSub: p.sub,
          purpose: body.purpose,
          searchedAt: now.toISOString(),
        },
        inbox: { kind: 'event', ref: s.flag.id },
      }));
      await this.deps.ledger.append(tx, { entries, events });
      const [first] = answers;
      return body.subject !== undefined && first
        ? { ...first, ...caseReference }
        : { results: answers, ...caseReference };
    });
  }

  /** Exactly one of `subject` and `subjects`, each a usable subject; every error at once. */
  private searchSubjects(body: SearchBodyT): Subject[] {
    if ((body.subject === undefined) === (body.subjects === undefined)) {
      throw invalid([{ path: '/', message: 'give exactly one of subject and subjects' }]);
    }
    const given = body.subject !== undefined ? [body.subject] : (body.subjects ?? []);
    const errors: FieldError[] = [];
    const checked = given.map((s, i) => {
      try {
        return checkSubject(s, body.subject !== undefined ? '/subject' : `/subjects/${i}`);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        errors.push(...(err.extras.errors ?? []));
        return s;
      }
    });
    if (errors.length > 0) throw invalid(errors);
    return checked;
  }

  /**
   * One subject's search as the ledger keeps it. `permit` when something was shown, `deny` when nothing
   * was: nothing found and nothing this searcher may see are not told apart, so that not even the
   * searcher's own auditors learn of a flag hidden from them.
   */
  private searchedEntry(
    p: Practitioner,
    body: SearchBodyT,
    subject: Subject,
    d: Disclosure,
    policyVersion: string,
  ): LedgerEntryInput {
    const decisions = d.shown.map((s) => s.decision);
    const publishers = unique(d.shown.map((s) => s.flag.agencyId)).filter((a) => a !== p.agency);
    const consent = decisions[0]?.consentStatus?.status;
    return {
      action: 'flag.searched',
      actor: actorOf(p),
      subject: identifiersOf(subject),
      purpose: body.purpose,
      ...(body.caseReference ? { caseReference: body.caseReference } : {}),
      decision: d.shown.length > 0 ? 'permit' : 'deny',
      ruleIds: unique(decisions.flatMap((x) => x.ruleIds)).sort(),
      policyVersion,
      categories: ['flags'],
      outcome: d.match,
      ...(d.shown.length > 0
        ? {
            lawfulBasis: unique(decisions.flatMap((x) => x.lawfulBasis)),
            ...(consent ? { consent } : {}),
            fields: { flags: d.fields },
          }
        : {}),
      ...(publishers.length > 0 ? { counterparts: publishers } : {}),
    };
  }
}
