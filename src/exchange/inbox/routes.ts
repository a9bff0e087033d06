import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../http/errors.js';
import { isUuid, stringEnum } from '../../http/schema.js';
import { ALL_ROLES, practitionerOf } from '../../identity/index.js';
import type { Db } from '../../store/index.js';
import { ackInbox, listInbox } from './store.js';

export interface InboxRoutesOptions {
  db: Db;
}

const InboxQuery = Type.Object(
  {
    // The contract's default: an inbox shows what is still open.
    status: stringEnum(['open', 'all'] as const, { default: 'open' }),
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
type InboxQueryT = Static<typeof InboxQuery>;

const Item = Type.Object({
  id: Type.String(),
  kind: stringEnum(['concern', 'request', 'event'] as const),
  ref: Type.String(),
  type: Type.String(),
  receivedAt: Type.String(),
  dueBy: Type.Optional(Type.String()),
  ackedAt: Type.Optional(Type.String()),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type IdParamsT = Static<typeof IdParams>;

/**
 * The inbox (contract section 12): what is addressed to the caller's agency, the source of truth that
 * webhooks only nudge. Items carry ids, types, times and agency ids only, so reading them discloses no
 * personal data and is not ledgered; every role of the agency may read them (an auditor is told of an
 * override this way).
 */
export async function inboxRoutes(app: FastifyInstance, opts: InboxRoutesOptions): Promise<void> {
  const config = { roles: ALL_ROLES };

  app.get<{ Querystring: InboxQueryT }>(
    '/v1/inbox',
    {
      config,
      schema: {
        querystring: InboxQuery,
        response: {
          200: Type.Object({
            items: Type.Array(Item),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const me = practitionerOf(request);
      const q = request.query;
      const page = await listInbox(opts.db, {
        agency: me.agency,
        openOnly: q.status === 'open',
        afterSeq: q.cursor === undefined ? 0 : Number(q.cursor),
        limit: q.limit,
      });
      return { items: page.items, nextCursor: page.more && page.lastSeq ? String(page.lastSeq) : null };
    },
  );

  app.post<{ Params: IdParamsT }>(
    '/v1/inbox/:id/ack',
    { config, schema: { params: IdParams, response: { 200: Item } } },
    async (request) => {
      const me = practitionerOf(request);
      const { id } = request.params;
      if (!isUuid(id)) throw notFound();
      // Another agency's item does not exist for the caller.
      const item = await ackInbox(opts.db, me.agency, id, me.sub);
      if (!item) throw notFound();
      return item;
    },
  );
}
