import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../http/errors.js';
import { practitionerOf } from '../identity/index.js';
import type { Queryable } from '../store/db.js';
import { recordedTransaction } from './append.js';
import { commitmentMatches } from './commitment.js';
import type { LedgerEntry } from './entry.js';
import { getEntry } from './queries.js';
import { AUDITOR, ProofParams, TextsReply } from './route-schemas.js';
import type { Ledger } from './service.js';
import type { SubjectIdentifiers } from './subject.js';

/** The free texts an entry commits to, as the record of its journey still holds them, and whom it is about. */
export interface HeldTexts {
  subject: SubjectIdentifiers | null;
  texts: Record<string, { text: string; salt: string }>;
}

/**
 * `viewer` is the auditor's agency: a journey may keep a text from one of the entry's parties (a CSC's
 * own note on a concern is not the referrer's to read).
 */
export type TextSource = (
  tx: Queryable,
  entry: LedgerEntry,
  viewer: string,
) => Promise<HeldTexts | undefined>;

export interface TextsRouteOptions {
  ledger: Ledger;
  texts: TextSource | undefined;
  policyVersion: () => string;
}

/** Whether an entry is one an agency's auditor may see: it acts in it, is its counterpart, or a party. */
function involves(e: LedgerEntry, agency: string): boolean {
  return e.actor.agency === agency || e.counterpart === agency || (e.counterparts?.includes(agency) ?? false);
}

/**
 * GET /v1/audit/entries/:seq/texts (role auditor): the free texts an entry the auditor's agency is party
 * to commits to, as the record of its journey still holds them, with their salts (docs/ledger.md).
 */
export const textsRoute: FastifyPluginAsync<TextsRouteOptions> = async (app, opts) => {
  const { ledger, policyVersion } = opts;
  const { db } = ledger;

  app.get<{ Params: Static<typeof ProofParams> }>(
    '/audit/entries/:seq/texts',
    { config: AUDITOR, schema: { params: ProofParams, response: { 200: TextsReply } } },
    async (request) => {
      const me = practitionerOf(request);
      return recordedTransaction(db, async (tx) => {
        const entry = await getEntry(tx, request.params.seq);
        if (!entry || !involves(entry, me.agency)) throw new AppError('not_found', 'No such entry.');
        const commitments = entry.commitments ?? {};
        const held =
          Object.keys(commitments).length > 0 ? await opts.texts?.(tx, entry, me.agency) : undefined;
        const texts = Object.entries(commitments).map(([field, commitment]) => {
          const t = held?.texts[field];
          if (!t) return { field, commitment, held: false };
          return {
            field,
            commitment,
            held: true,
            ...t,
            matches: commitmentMatches(t.text, t.salt, commitment),
          };
        });
        // Free text may name a person: an auditor reading it is watched like any other reader.
        if (texts.some((t) => t.held)) {
          await ledger.append(tx, {
            entries: [
              {
                action: 'audit.text_viewed',
                actor: { agency: me.agency, sub: me.sub, role: me.role },
                ...(entry.actor.agency !== me.agency ? { counterpart: entry.actor.agency } : {}),
                ...(entry.requestId ? { requestId: entry.requestId } : {}),
                ...(entry.concernId ? { concernId: entry.concernId } : {}),
                subject: held?.subject ?? null,
                decision: 'permit',
                ruleIds: [],
                policyVersion: policyVersion(),
              },
            ],
          });
        }
        return { seq: entry.seq, action: entry.action, texts };
      });
    },
  );
};
