import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AGENCY_KINDS, ALL_ROLES } from '../identity/roles.js';
import type { RegistryView } from './view.js';

const AgencyList = Type.Array(
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    kind: Type.Union(AGENCY_KINDS.map((k) => Type.Literal(k))),
  }),
);

/** The directory: who can be addressed. Active agencies only; no secrets, keys or webhook settings. */
export async function registryRoutes(app: FastifyInstance, opts: { registry: RegistryView }): Promise<void> {
  // Every role: the directory holds no personal data, and every practitioner needs to know whom to ask.
  app.get(
    '/v1/agencies',
    { config: { roles: ALL_ROLES }, schema: { response: { 200: AgencyList } } },
    async () =>
      opts.registry
        .activeAgencies()
        .map((a) => ({ id: a.id, name: a.name, kind: a.kind }))
        .sort((a, b) => a.id.localeCompare(b.id)),
  );
}
