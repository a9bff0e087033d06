import fc from 'fast-check';
import { type BodyDraft, bodyMutation, STRANGE_BODIES } from './mutate-body.js';
import {
  type HeaderList,
  HOSTILE_IDS,
  headerMutation,
  METHODS,
  PATH_REWRITES,
  PATH_TAILS,
  QUERY_EXTRAS,
  VERSIONS,
} from './mutate-wire.js';
import { arbitraryFor, type JsonSchema, type Targets } from './values.js';

/**
 * The fuzzer's requests, derived from the OpenAPI document the gateway serves: for every route and
 * method, a valid-looking request (parameters, query and body drawn from the route's schemas) that is
 * then, most of the time, mutated at one or more places, and sent by one of several callers.
 */
export interface Operation {
  method: string;
  /** The OpenAPI path, `/v1/requests/{id}`. */
  path: string;
  params: Array<{ name: string; schema: JsonSchema }>;
  query: Array<{ name: string; schema: JsonSchema; required: boolean }>;
  body: JsonSchema | undefined;
  /** Open without a client certificate and token (OpenAPI `security: []`). */
  isPublic: boolean;
}

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: unknown[];
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const parameters = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        params: parameters
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        query: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true })),
        body: op.requestBody?.content?.['application/json']?.schema,
        isPublic: (op.security ?? []).length === 0,
      });
    }
  }
  return ops;
}

/** Each agency kind's roles (contract section 1). */
export const ROLES_BY_KIND: Record<string, readonly string[]> = {
  health: ['gp', 'safeguarding_lead', 'auditor', 'agency_admin'],
  children_social_care: ['social_worker', 'team_manager', 'mash_officer', 'auditor', 'agency_admin'],
  police: ['police_officer', 'public_protection_officer', 'auditor', 'agency_admin'],
  probation: ['probation_officer', 'mappa_coordinator', 'auditor', 'agency_admin'],
};

export const BAD_TOKENS = [
  'garbage',
  'alg-none',
  'hs256',
  'expired',
  'issued-in-future',
  'wrong-audience',
  'lifetime-too-long',
  'no-kid',
  'unknown-kid',
  'huge',
  'basic-scheme',
  'empty-bearer',
  'control-characters-in-sub',
  'flipped-signature',
  'short-signature',
  'planted-name-bad-signature',
] as const;
export type BadToken = (typeof BAD_TOKENS)[number];

/** Who sends a request: an agency's certificate (or none) and a token (or none, or a bad one). */
export type Caller =
  | { kind: 'agency'; agency: string; role: string; plantedName: boolean; scheme: string }
  | { kind: 'role-of-another-kind'; agency: string; role: string }
  | { kind: 'no-certificate'; agency: string; role: string; withToken: boolean }
  | { kind: 'certificate-only'; agency: string }
  | { kind: 'bad-token'; agency: string; role: string; token: BadToken }
  | { kind: 'token-of-another-agency'; agency: string; other: string; role: string };

export interface Case {
  op: Operation;
  method: string;
  /** Request target: path (with parameters) and query string, as written on the request line. */
  target: string;
  version: string;
  headers: HeaderList;
  body: BodyDraft | { label: string; raw: Buffer } | undefined;
  caller: Caller;
  /** What was done to the request, for the statistics and a failure's description. */
  labels: string[];
  /** Framing left alone (HTTP/1.1, headers unmutated): the connection can carry the next request. */
  reusable: boolean;
}

function callerArb(agencies: ReadonlyArray<{ id: string; kind: string }>): fc.Arbitrary<Caller> {
  const agency = fc.constantFrom(...agencies);
  const ownRole = agency.chain((a) =>
    fc.constantFrom(...(ROLES_BY_KIND[a.kind] ?? ['auditor'])).map((role) => ({ agency: a.id, role })),
  );
  const otherRole = agency.chain((a) => {
    const own = new Set(ROLES_BY_KIND[a.kind] ?? []);
    const others = Object.values(ROLES_BY_KIND)
      .flat()
      .filter((r) => !own.has(r));
    return fc.constantFrom(...others, 'root', 'admin', '').map((role) => ({ agency: a.id, role }));
  });
  return fc.oneof(
    {
      weight: 16,
      arbitrary: fc
        .record({
          ar: ownRole,
          plantedName: fc.boolean(),
          scheme: fc.constantFrom('Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER'),
        })
        .map(({ ar, plantedName, scheme }) => ({ kind: 'agency' as const, ...ar, plantedName, scheme })),
    },
    { weight: 1, arbitrary: otherRole.map((ar) => ({ kind: 'role-of-another-kind' as const, ...ar })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ ar: ownRole, withToken: fc.boolean() })
        .map(({ ar, withToken }) => ({ kind: 'no-certificate' as const, ...ar, withToken })),
    },
    { weight: 1, arbitrary: agency.map((a) => ({ kind: 'certificate-only' as const, agency: a.id })) },
    {
      weight: 3,
      arbitrary: fc
        .record({ ar: ownRole, token: fc.constantFrom(...BAD_TOKENS) })
        .map(({ ar, token }) => ({ kind: 'bad-token' as const, ...ar, token })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ ar: ownRole, other: agency })
        .filter(({ ar, other }) => ar.agency !== other.id)
        .map(({ ar, other }) => ({ kind: 'token-of-another-agency' as const, ...ar, other: other.id })),
    },
  );
}

function paramValue(
  p: { name: string; schema: JsonSchema },
  targets: Targets,
): fc.Arbitrary<[string, string]> {
  const valid =
    p.name === 'seq'
      ? fc.integer({ min: 1, max: 40 }).map(String)
      : fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...targets.ids) },
          { weight: 1, arbitrary: fc.uuid() },
        );
  return fc
    .oneof(
      { weight: 3, arbitrary: valid.map((v) => [v, '']) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(...HOSTILE_IDS)
          .map((v) => [v, `path parameter ${p.name} = ${v.slice(0, 30)}`]),
      },
    )
    .map(([v, label]) => [v, label] as [string, string]);
}

const encodeQueryValue = (v: unknown): string =>
  encodeURIComponent(String(v)).replace(/%EE%80%80([NGFDPT])%EE%80%81/g, '\uE000$1\uE001');

function queryOf(op: Operation, targets: Targets): fc.Arbitrary<string[]> {
  if (op.query.length === 0) return fc.constant([]);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const q of op.query) shape[q.name] = arbitraryFor(q.schema, targets, q.name);
  return fc
    .record(shape, { requiredKeys: op.query.filter((q) => q.required).map((q) => q.name) })
    .map((o) => Object.entries(o).map(([k, v]) => `${k}=${encodeQueryValue(v)}`));
}

/** `arb` one time in `n`, otherwise null. */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** A request for `op`: valid-looking, then (mostly) mutated. */
export function caseFor(
  op: Operation,
  targets: Targets,
  agencies: ReadonlyArray<{ id: string; kind: string }>,
): fc.Arbitrary<Case> {
  const body: fc.Arbitrary<Case['body']> = op.body
    ? fc.oneof(
        {
          weight: 8,
          arbitrary: fc
            .record({
              value: arbitraryFor(op.body, targets),
              // Two in five bodies go unmutated: valid-looking bodies are what reach the handlers' own checks.
              muts: fc.oneof(
                { weight: 2, arbitrary: fc.constant([]) },
                { weight: 3, arbitrary: fc.array(bodyMutation, { minLength: 1, maxLength: 2 }) },
              ),
            })
            .map(({ value, muts }) => {
              let d: BodyDraft = { value: JSON.parse(JSON.stringify(value)), raws: [], label: '' };
              const labels: string[] = [];
              for (const m of muts) {
                d = m(d);
                labels.push(d.label);
              }
              return { ...d, label: labels.join('; ') };
            }),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(...STRANGE_BODIES)
            .map(([label, raw]) => ({ label: `body ${label}`, raw })),
        },
      )
    : fc.oneof(
        { weight: 9, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(...STRANGE_BODIES)
            .map(([label, raw]) => ({ label: `unexpected body ${label}`, raw })),
        },
      );
  return fc
    .record({
      caller: callerArb(agencies),
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant(op.method) },
        { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
      ),
      params: fc.tuple(...op.params.map((p) => paramValue(p, targets))),
      query: queryOf(op, targets),
      queryExtra: rarely(fc.constantFrom(...QUERY_EXTRAS), 6),
      tail: rarely(fc.constantFrom(...PATH_TAILS), 10),
      rewrite: rarely(fc.constantFrom(...PATH_REWRITES), 14),
      version: rarely(fc.constantFrom(...VERSIONS), 25),
      headerMuts: fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(headerMutation, { minLength: 1, maxLength: 2 }) },
      ),
      body,
    })
    .map((r) => {
      const labels: string[] = [];
      let path = op.path;
      op.params.forEach((p, i) => {
        const [value, label] = r.params[i] ?? ['', ''];
        path = path.replace(`{${p.name}}`, value);
        if (label) labels.push(label);
      });
      if (r.tail !== null) {
        path += r.tail;
        if (r.tail) labels.push(`path tail ${r.tail}`);
      }
      if (r.rewrite !== null) {
        path = r.rewrite[1](path);
        labels.push(`path ${r.rewrite[0]}`);
      }
      const query = [...r.query, ...(r.queryExtra !== null ? [r.queryExtra] : [])];
      if (r.queryExtra !== null) labels.push(`query ${r.queryExtra.slice(0, 30)}`);
      let headers: HeaderList = [['Host', 'localhost']];
      if (r.body !== undefined) headers.push(['Content-Type', 'application/json']);
      for (const [label, mutate] of r.headerMuts) {
        headers = mutate(headers);
        labels.push(label);
      }
      if (r.method !== op.method) labels.push(`method ${r.method}`);
      if (r.version !== null) labels.push(`version ${JSON.stringify(r.version)}`);
      if (r.body?.label) labels.push(r.body.label);
      labels.push(`caller ${r.caller.kind}${r.caller.kind === 'bad-token' ? ` ${r.caller.token}` : ''}`);
      const sep = path.includes('?') ? '&' : '?';
      return {
        [fc.toStringMethod]: () => `${r.method} ${op.path} [${labels.join(' | ')}]`,
        op,
        method: r.method,
        target: query.length ? `${path}${sep}${query.join('&')}` : path,
        version: r.version ?? 'HTTP/1.1',
        headers,
        body: r.body,
        caller: r.caller,
        labels,
        reusable: r.headerMuts.length === 0 && r.version === null,
      };
    });
}

/** A request for any operation of the document. */
export function anyCase(
  ops: Operation[],
  targets: Targets,
  agencies: ReadonlyArray<{ id: string; kind: string }>,
): fc.Arbitrary<Case> {
  return fc.oneof(...ops.map((op) => caseFor(op, targets, agencies)));
}
