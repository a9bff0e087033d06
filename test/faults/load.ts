import { randomBytes } from 'node:crypto';
import { PAYLOADS } from '../exchange/requests-fixtures.js';
import { CSC, GP, POLICE, validNhsNumberFrom } from '../helpers/ids.js';
import type { Answer, FailoverClient } from './client.js';

/**
 * A steady load of the three journeys through the failover client, every call kept as an Op:
 * an information request (created by a CSC social worker, released by a police officer, read by the
 * social worker), a concern (submitted by a GP to CSC) and a flag search (by a police officer, of a child
 * on a child protection plan: an exact match, a disclosure each time). What the client saw is what the
 * checks hold the ledger and the webhook receiver to.
 */

export type OpKind = 'request.create' | 'request.release' | 'request.read' | 'concern.submit' | 'flag.search';

export interface Op {
  kind: OpKind;
  started: number;
  ended: number;
  status: number;
  code?: string;
  /** The request's or the concern's id. */
  id?: string;
  /** Unique to each request, concern and search: the ledger keeps it. */
  caseReference?: string;
  gateway: number;
  failovers: number;
  /** A 2xx that showed personal data: released or read request data, a flag found. */
  disclosed: boolean;
  error?: string;
}

export type Tokens = (agency: string, role: string) => string;

export interface LoadOptions {
  client: FailoverClient;
  tokens: Tokens;
  /** The child on a child protection plan that police search for. */
  flaggedChild: string;
  workers: number;
  /** Each worker's pause between calls. */
  pauseMs: number;
}

export interface Load {
  ops: Op[];
  stop(): Promise<void>;
}

const KINDS: readonly OpKind[] = [
  'request.create',
  'request.release',
  'request.read',
  'concern.submit',
  'flag.search',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startLoad(opts: LoadOptions): Load {
  const tag = randomBytes(3).toString('hex');
  const ops: Op[] = [];
  let counter = 0;
  let stopped = false;
  /** Requests created and not yet released; released ones, the newest last, for reads. */
  const awaiting: string[] = [];
  const released: string[] = [];

  const subject = (n: number) => ({
    type: 'child',
    nhsNumber: validNhsNumberFrom(930_000_000 + (n % 1_000_000) * 10),
    name: { given: 'Sam', family: 'Example' },
    dateOfBirth: '2019-05-04',
  });

  const record = (kind: OpKind, started: number, a: Answer, extra: Partial<Op>): Op => {
    const op: Op = {
      kind,
      started,
      ended: Date.now(),
      status: a.status,
      gateway: a.gateway,
      failovers: a.failovers,
      disclosed: false,
      ...(a.code ? { code: a.code } : {}),
      ...(a.error ? { error: a.error } : {}),
      ...extra,
    };
    ops.push(op);
    return op;
  };

  const call = (agency: string, role: string, method: string, path: string, body?: unknown) =>
    opts.client.call(agency, opts.tokens(agency, role), method, path, body);

  const steps: Record<OpKind, () => Promise<void>> = {
    'request.create': async () => {
      const n = ++counter;
      const caseReference = `ft-${tag}-${n}`;
      const started = Date.now();
      const a = await call(CSC, 'social_worker', 'POST', '/v1/requests', {
        to: POLICE,
        subject: subject(n),
        purpose: 's47_enquiry',
        categories: ['incidents'],
        justification: 'Strategy discussion held today; s47 enquiry opened.',
        caseReference,
      });
      const id = a.status === 201 ? (a.json?.id as string) : undefined;
      record('request.create', started, a, { caseReference, ...(id ? { id } : {}) });
      if (id) awaiting.push(id);
    },
    'request.release': async () => {
      const id = awaiting.shift();
      if (!id) return steps['request.create']();
      const started = Date.now();
      const a = await call(POLICE, 'police_officer', 'POST', `/v1/requests/${id}/response`, {
        data: { incidents: PAYLOADS.incidents },
      });
      record('request.release', started, a, { id, disclosed: a.status === 200 });
      // 409: an earlier try was released though its answer never arrived; the read shows which.
      if (a.status === 200 || a.status === 409) released.push(id);
      else if (a.status === 503 || a.status === 0) awaiting.push(id);
      if (released.length > 50) released.shift();
    },
    'request.read': async () => {
      const id = released[Math.floor(Math.random() * released.length)];
      if (!id) return steps['request.create']();
      const started = Date.now();
      const a = await call(CSC, 'social_worker', 'GET', `/v1/requests/${id}`);
      record('request.read', started, a, {
        id,
        disclosed: a.status === 200 && a.json?.response?.data !== undefined,
      });
    },
    'concern.submit': async () => {
      const n = ++counter;
      const caseReference = `ft-${tag}-${n}`;
      const started = Date.now();
      const a = await call(GP, 'gp', 'POST', '/v1/concerns', {
        to: CSC,
        child: subject(n),
        categories: ['neglect'],
        summary: 'Attended three times with untreated injuries; parent vague about their cause.',
        urgency: 'standard',
        consent: { status: 'not_sought', reason: 'Seeking consent could place the child at risk.' },
        referrerContact: { phone: '01234 567890' },
        caseReference,
      });
      const id = a.status === 201 ? (a.json?.id as string) : undefined;
      record('concern.submit', started, a, { caseReference, ...(id ? { id } : {}) });
    },
    'flag.search': async () => {
      const caseReference = `ft-${tag}-${++counter}`;
      const started = Date.now();
      const a = await call(POLICE, 'police_officer', 'POST', '/v1/flags/search', {
        subject: { type: 'child', nhsNumber: opts.flaggedChild },
        purpose: 'risk_to_children_check',
        caseReference,
      });
      record('flag.search', started, a, {
        caseReference,
        disclosed: a.status === 200 && Array.isArray(a.json?.results) && a.json.results.length > 0,
      });
    },
  };

  const worker = async (w: number) => {
    for (let i = w; !stopped; i++) {
      await steps[KINDS[i % KINDS.length] as OpKind]();
      await sleep(opts.pauseMs);
    }
  };
  const running = Array.from({ length: opts.workers }, (_, w) => worker(w));
  return {
    ops,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}
