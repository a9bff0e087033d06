import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { problemStatuses } from '../../src/http/openapi.js';
import { AGENCIES, startTestGateway } from '../helpers/gateway.js';

interface Operation {
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
}
type PathItem = Record<string, Operation>;
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, { properties: Record<string, unknown> }>;
    securitySchemes: Record<string, unknown>;
  };
  tags: Array<{ name: string; description?: string }>;
}

const gw = await startTestGateway(t);
const anonymous = { ca: gw.credentials(AGENCIES.csc.id).ca };
const res = await gw.request('/docs/openapi.json', anonymous);
const doc = res.json as OpenApiDocument;

/**
 * Every route the router holds, read from Fastify's own route tree (printRoutes with full segments),
 * not from anything the document generator saw: `[METHOD, /openapi/{style}]`, HEAD left out.
 */
function routerRoutes(): Array<[string, string]> {
  const tree = gw.gateway.app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const found: Array<[string, string]> = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(m[2] ?? '');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) {
      found.push([method, stack.join('').replace(/:([A-Za-z0-9_]+)/g, '{$1}')]);
    }
  }
  return found;
}

t.test('served at /docs/openapi.json without a client certificate', async (t) => {
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  t.equal(res.headers['x-content-type-options'], 'nosniff', 'with the security headers');
  t.equal(doc.openapi, '3.1.0');
});

t.test('the document is valid OpenAPI 3.1, every $ref resolving', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
  t.ok(result.valid, `valid: ${JSON.stringify(result.errors, null, 1)?.slice(0, 2000)}`);
  t.doesNotThrow(() => validator.resolveRefs(), 'every $ref resolves');
  // The validator does reject what is not OpenAPI (so that the check above can fail).
  const broken = structuredClone(doc) as unknown as { paths: Record<string, unknown> };
  broken.paths['/broken'] = { get: { responses: { 200: { content: 'not an object' } } } };
  t.notOk(
    (await new Validator().validate(broken as Record<string, unknown>)).valid,
    'a broken copy is refused',
  );
});

t.test('every route the router has is in the document, with its methods, and nothing else', async (t) => {
  const routes = routerRoutes();
  t.ok(routes.length >= 20, `the router's routes were read (${routes.length})`);
  for (const [method, path] of routes) {
    t.ok(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`);
  }
  const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
  );
  t.same(documented.sort(), routes.map(([m, p]) => `${m} ${p}`).sort(), 'the same set both ways');
});

t.test('security schemes: mutual TLS and the practitioner bearer token, required on /v1', async (t) => {
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['mutualTLS', 'practitionerToken']);
  t.match(doc.components.securitySchemes.mutualTLS, { type: 'mutualTLS' });
  t.match(doc.components.securitySchemes.practitionerToken, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const open = !path.startsWith('/v1/') || path === '/v1/audit/keys';
      t.same(
        op.security,
        open ? [] : [{ mutualTLS: [], practitionerToken: [] }],
        `${method.toUpperCase()} ${path}: ${open ? 'open' : 'certificate and token'}`,
      );
    }
  }
});

t.test('error responses: problem+json with the shared schema, as each route can answer them', async (t) => {
  const problem = doc.components.schemas.ProblemDetails;
  t.ok(problem, 'a ProblemDetails component');
  t.same(Object.keys(problem?.properties ?? {}).sort(), [
    'code',
    'detail',
    'errors',
    'reasons',
    'requestId',
    'status',
    'title',
    'type',
  ]);
  const expect = (method: string, path: string, statuses: number[]) => {
    const op = doc.paths[path]?.[method];
    for (const s of statuses) {
      const r = op?.responses[String(s)];
      t.ok(r?.content?.['application/problem+json'], `${method.toUpperCase()} ${path}: ${s}`);
      t.same(r?.content?.['application/problem+json']?.schema, {
        $ref: '#/components/schemas/ProblemDetails',
      });
    }
  };
  expect('post', '/v1/requests', [400, 401, 403, 413, 415, 429, 500, 503]);
  expect('post', '/v1/requests/{id}/response', [400, 401, 403, 404, 409, 413, 415, 429, 503]);
  expect('get', '/v1/requests/{id}', [400, 401, 403, 404, 429, 503]);
  expect('get', '/v1/audit/keys', [500, 503]);
  t.notOk(doc.paths['/v1/audit/keys']?.get?.responses['401'], 'a public route has no 401');
  t.notOk(doc.paths['/v1/requests']?.post?.responses['404'], 'no 404 without a resource in the path');
  t.notOk(doc.paths['/v1/requests/{id}']?.get?.responses['409'], 'no 409 on a read');
  t.ok(doc.paths['/v1/requests']?.post?.responses['429']?.description.includes('rate_limited'));
  // A route's own schema for a status stays: /health/ready's 503 is its readiness body.
  const ready = doc.paths['/health/ready']?.get?.responses['503'];
  t.ok(ready?.content?.['application/json'], '/health/ready keeps its own 503');
  t.notOk(ready?.content?.['application/problem+json']);
  // And each route's success response is there too.
  t.ok(doc.paths['/v1/requests']?.post?.responses['201'], 'POST /v1/requests 201');
  t.ok(doc.paths['/v1/audit/consistency']?.get?.responses['200'], 'GET /v1/audit/consistency 200');
});

t.test('tags per capability, each listed once at the top', async (t) => {
  const listed = new Set(doc.tags.map((tag) => tag.name));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      t.equal(op.tags?.length, 1, `${method.toUpperCase()} ${path} has a tag`);
      t.ok(listed.has(op.tags?.[0] ?? ''), `${op.tags?.[0]} is listed`);
    }
  }
  t.equal(doc.paths['/v1/audit/checkpoint']?.get?.tags?.[0], 'audit');
  t.equal(doc.paths['/health/live']?.get?.tags?.[0], 'health');
  t.equal(doc.paths['/v1/requests/{id}']?.get?.tags?.[0], 'requests');
});

t.test('the document leaves replies as they were: problems keep their serializer and shape', async (t) => {
  // A 404 problem carries the contract's fields and nothing the ProblemDetails schema would add.
  const missing = await gw.call(
    AGENCIES.csc.id,
    'social_worker',
    'GET',
    '/v1/requests/00000000-0000-4000-8000-000000000000',
  );
  t.equal(missing.status, 404);
  t.match(missing.headers['content-type'], /^application\/problem\+json/);
  t.same(Object.keys(missing.json).sort(), ['code', 'detail', 'requestId', 'status', 'title', 'type']);
  const invalid = await gw.call(AGENCIES.csc.id, 'social_worker', 'POST', '/v1/requests', { to: 42 });
  t.equal(invalid.status, 400);
  t.ok(Array.isArray(invalid.json.errors) && invalid.json.errors.length > 0, 'errors listed');
});

t.test('which errors a route shape can answer', async (t) => {
  t.same(problemStatuses('GET', '/health/live', {}, true), [500]);
  t.same(problemStatuses('GET', '/v1/agencies', {}, false), [401, 403, 429, 500, 503]);
  t.same(problemStatuses('GET', '/v1/audit/keys', {}, true), [500, 503]);
  t.same(problemStatuses('POST', '/v1/things/:id/ack', {}, false), [400, 401, 403, 404, 409, 429, 500, 503]);
  t.same(problemStatuses('PUT', '/v1/things', { body: {} }, false), [400, 401, 403, 413, 415, 429, 500, 503]);
  t.same(problemStatuses('GET', '/v1/things', { querystring: {} }, false), [400, 401, 403, 429, 500, 503]);
});
