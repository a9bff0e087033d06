import type { FastifyInstance } from 'fastify';
import { AGENCY_KINDS, practiceRoles, practitionerOf } from '../../identity/index.js';
import {
  EndReply,
  FlagParams,
  type FlagParamsT,
  PublishBody,
  type PublishBodyT,
  PublishReply,
  SearchBody,
  type SearchBodyT,
  SearchReply,
} from './schemas.js';
import { FlagService, type FlagServiceDeps, PUBLISHING_KINDS } from './service.js';

/** The practice roles of the kinds that publish flags; which types each kind may publish is checked per flag. */
const PUBLISHER_ROLES = [...new Set(PUBLISHING_KINDS.flatMap((k) => practiceRoles(k)))];
/** Every practice role of every kind may search: the policy decides what each one sees. */
const SEARCHER_ROLES = [...new Set(AGENCY_KINDS.flatMap((k) => practiceRoles(k)))];

/** Flags (contract section 7): publish, end, search. */
export async function flagRoutes(app: FastifyInstance, deps: FlagServiceDeps): Promise<void> {
  const service = new FlagService(deps);

  app.put<{ Body: PublishBodyT }>(
    '/v1/flags',
    {
      config: { roles: PUBLISHER_ROLES },
      schema: { body: PublishBody, response: { 200: PublishReply, 201: PublishReply } },
    },
    async (request, reply) => {
      const { id, created } = await service.publish(practitionerOf(request), request.body);
      reply.code(created ? 201 : 200);
      return { id };
    },
  );

  app.delete<{ Params: FlagParamsT }>(
    '/v1/flags/:id',
    { config: { roles: PUBLISHER_ROLES }, schema: { params: FlagParams, response: { 200: EndReply } } },
    async (request) => service.end(practitionerOf(request), request.params.id),
  );

  app.post<{ Body: SearchBodyT }>(
    '/v1/flags/search',
    { config: { roles: SEARCHER_ROLES }, schema: { body: SearchBody, response: { 200: SearchReply } } },
    async (request) => service.search(practitionerOf(request), request.body),
  );
}
