import type { FastifyInstance } from 'fastify';
import { AGENCY_KINDS, practiceRoles, practitionerOf } from '../../identity/index.js';
import {
  ConcernParams,
  type ConcernParamsT,
  ConcernView,
  DecisionBody,
  type DecisionBodyT,
  DecisionReply,
  ListConcernsQuery,
  type ListConcernsQueryT,
  ListConcernsReply,
  SubmitConcernBody,
  type SubmitConcernBodyT,
  SubmitConcernReply,
} from './schemas.js';
import { ConcernService, type ConcernServiceDeps } from './service.js';

/** Everyone who acts on cases; the auditor reads the ledger only, the agency_admin runs the agency. */
const PRACTICE_ROLES = AGENCY_KINDS.flatMap((k) => practiceRoles(k));
/** A concern goes to children's social care from any other agency; CSC does not refer to itself. */
const REFERRER_ROLES = AGENCY_KINDS.filter((k) => k !== 'children_social_care').flatMap((k) =>
  practiceRoles(k),
);

/**
 * Safeguarding concerns (contract section 5). Deciding is open to every practice role at the route so
 * that an agency not party to a concern gets the same 404 as for one that does not exist; the service
 * lets only the addressed CSC decide.
 */
export async function concernRoutes(app: FastifyInstance, deps: ConcernServiceDeps): Promise<void> {
  const service = new ConcernService(deps);

  app.post<{ Body: SubmitConcernBodyT }>(
    '/v1/concerns',
    {
      config: { roles: REFERRER_ROLES },
      schema: { body: SubmitConcernBody, response: { 201: SubmitConcernReply } },
    },
    async (request, reply) => {
      const created = await service.submit(practitionerOf(request), request.body);
      reply.code(201).header('location', `/v1/concerns/${created.id}`);
      return created;
    },
  );

  app.get<{ Querystring: ListConcernsQueryT }>(
    '/v1/concerns',
    {
      config: { roles: PRACTICE_ROLES },
      schema: { querystring: ListConcernsQuery, response: { 200: ListConcernsReply } },
    },
    async (request) => service.list(practitionerOf(request), request.query),
  );

  app.get<{ Params: ConcernParamsT }>(
    '/v1/concerns/:id',
    { config: { roles: PRACTICE_ROLES }, schema: { params: ConcernParams, response: { 200: ConcernView } } },
    async (request) => service.read(practitionerOf(request), request.params.id),
  );

  app.post<{ Params: ConcernParamsT; Body: DecisionBodyT }>(
    '/v1/concerns/:id/decision',
    {
      config: { roles: PRACTICE_ROLES },
      schema: { params: ConcernParams, body: DecisionBody, response: { 200: DecisionReply } },
    },
    async (request) => service.decide(practitionerOf(request), request.params.id, request.body),
  );
}
