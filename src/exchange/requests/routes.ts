import type { FastifyInstance } from 'fastify';
import { ALL_ROLES, practitionerOf } from '../../identity/index.js';
import {
  CreateRequestBody,
  type CreateRequestBodyT,
  CreateRequestReply,
  DeclineBody,
  type DeclineBodyT,
  DeclineReply,
  RequestParams,
  type RequestParamsT,
  RequestView,
  RespondBody,
  type RespondBodyT,
  RespondReply,
} from './schemas.js';
import { RequestService, type RequestServiceDeps } from './service.js';

/** Everyone who acts on cases; the auditor reads the ledger only, the agency_admin runs the agency. */
const PRACTICE_ROLES = ALL_ROLES.filter((r) => r !== 'auditor' && r !== 'agency_admin');

/** Information requests (contract section 6). Which categories a role actually gets is the policy's call. */
export async function requestRoutes(app: FastifyInstance, deps: RequestServiceDeps): Promise<void> {
  const service = new RequestService(deps);
  const config = { roles: PRACTICE_ROLES };

  app.post<{ Body: CreateRequestBodyT }>(
    '/v1/requests',
    { config, schema: { body: CreateRequestBody, response: { 201: CreateRequestReply } } },
    async (request, reply) => {
      const created = await service.create(practitionerOf(request), request.body);
      reply.code(201).header('location', `/v1/requests/${created.id}`);
      return created;
    },
  );

  app.get<{ Params: RequestParamsT }>(
    '/v1/requests/:id',
    { config, schema: { params: RequestParams, response: { 200: RequestView } } },
    async (request) => service.read(practitionerOf(request), request.params.id),
  );

  app.post<{ Params: RequestParamsT; Body: RespondBodyT }>(
    '/v1/requests/:id/response',
    { config, schema: { params: RequestParams, body: RespondBody, response: { 200: RespondReply } } },
    async (request) => service.respond(practitionerOf(request), request.params.id, request.body),
  );

  app.post<{ Params: RequestParamsT; Body: DeclineBodyT }>(
    '/v1/requests/:id/decline',
    { config, schema: { params: RequestParams, body: DeclineBody, response: { 200: DeclineReply } } },
    async (request) => service.decline(practitionerOf(request), request.params.id, request.body),
  );
}
