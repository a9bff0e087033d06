import type { Caller, Practitioner } from './client.js';
import type { Op, Outcome } from './load.js';
import { nhsNumbers, takeNhsNumbers } from './subjects.js';
import { AGENCIES } from './workspace.js';

/** A journey as the bench drives it: one request per call of `op`, with its data prepared beforehand. */
export interface Journey {
  key: string;
  name: string;
  op: Op;
}

/** Several practitioners per role, as an agency has: each has a token (and rate-limit key) of their own. */
const practitioner = (agency: string, role: string, i: number): Practitioner => ({
  agency,
  role,
  sub: `${role}-${i % 8}`,
});

const child = (nhsNumber: string) => ({ type: 'child', nhsNumber });
const expect = (status: number, wanted: number): Outcome => (status === wanted ? 'ok' : 'error');

/** Runs `fn(0..n-1)` with at most `concurrency` at once; throws on the first that does not answer ok. */
async function prepareAll(n: number, concurrency: number, what: string, fn: Op): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      if ((await fn(i)) !== 'ok') throw new Error(`preparing ${what}: call ${i} failed`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

/**
 * The requests the release and read journeys work on: created by the request-create journey (and
 * topped up when it made too few), each released at most once, read as often as wanted.
 */
export class RequestStock {
  private readonly created: string[] = [];
  private taken = 0;
  readonly released: string[] = [];

  add(id: string): void {
    this.created.push(id);
  }

  get pending(): number {
    return this.created.length - this.taken;
  }

  take(): string | undefined {
    return this.taken < this.created.length ? this.created[this.taken++] : undefined;
  }
}

export interface JourneySet {
  /** Requests answered as expected per journey key, all phases (warm-up, smoke test, scale-out) included. */
  answered: Record<string, number>;
  flagSearch: Journey;
  concernSubmit: Journey;
  requestCreate: Journey;
  responseRelease: Journey;
  ledgeredRead: Journey;
  stock: RequestStock;
  /** The NHS numbers of the children whose flags were published. */
  flagged: readonly string[];
  /** Publishes the flags the searches find (children on a child protection plan). */
  publishFlags(count: number): Promise<void>;
  /** Creates requests, unmeasured, until at least `n` wait for a response. */
  topUpRequests(n: number): Promise<void>;
}

/** `target` is asked on every request, so that the scale-out run can point the same journey elsewhere. */
export function journeys(target: () => Caller): JourneySet {
  const flagged: string[] = [];
  const unflagged = nhsNumbers(930_000_000);
  const concernChildren = nhsNumbers(910_000_000);
  const requestChildren = nhsNumbers(920_000_000);
  const stock = new RequestStock();
  const answered: Record<string, number> = {};
  const counted = (key: string, op: Op): Op => {
    answered[key] = 0;
    return async (i) => {
      const outcome = await op(i);
      if (outcome === 'ok') answered[key] = (answered[key] ?? 0) + 1;
      return outcome;
    };
  };

  const createRequest: Op = async (i) => {
    const reply = await target().call(
      practitioner(AGENCIES.csc.id, 'social_worker', i),
      'POST',
      '/v1/requests',
      {
        to: AGENCIES.police.id,
        subject: child(requestChildren.next().value),
        purpose: 's47_enquiry',
        categories: ['incidents', 'convictions'],
        justification: 'Strategy discussion held; s47 enquiry opened (bench).',
        caseReference: `BENCH-${i}`,
      },
      true,
    );
    if (reply.status !== 201) return 'error';
    stock.add((reply.json as { id: string }).id);
    return 'ok';
  };

  const set: JourneySet = {
    answered,
    stock,
    flagged,
    async publishFlags(count) {
      flagged.push(...takeNhsNumbers(900_000_000, count));
      await prepareAll(count, 8, 'flags', async (i) => {
        const reply = await target().call(
          practitioner(AGENCIES.csc.id, 'social_worker', i),
          'PUT',
          '/v1/flags',
          {
            subject: child(flagged[i] as string),
            flag: 'child_protection_plan',
            validFrom: '2026-01-05',
            contact: { team: 'Bench MASH', phone: '01632 960001' },
          },
        );
        return expect(reply.status, 201);
      });
    },
    async topUpRequests(n) {
      const missing = n - stock.pending;
      if (missing > 0) await prepareAll(missing, 16, 'requests', createRequest);
    },
    flagSearch: {
      key: 'flag_search',
      name: 'flag search',
      // Three searches in four find a flagged child; the fourth finds nothing (and is ledgered too).
      op: async (i) => {
        const nhs =
          i % 4 === 3 || flagged.length === 0 ? unflagged.next().value : flagged[(i * 7919) % flagged.length];
        const reply = await target().call(
          practitioner(AGENCIES.police.id, 'police_officer', i),
          'POST',
          '/v1/flags/search',
          { subject: child(nhs as string), purpose: 'risk_to_children_check' },
        );
        return expect(reply.status, 200);
      },
    },
    concernSubmit: {
      key: 'concern_submit',
      name: 'concern submit',
      op: async (i) => {
        const reply = await target().call(practitioner(AGENCIES.gp.id, 'gp', i), 'POST', '/v1/concerns', {
          to: AGENCIES.csc.id,
          child: child(concernChildren.next().value),
          categories: ['neglect'],
          summary: 'Missed appointments; the child seemed withdrawn (bench).',
          urgency: 'standard',
          consent: { status: 'not_sought' },
          referrerContact: { phone: '01632 960002' },
        });
        return expect(reply.status, 201);
      },
    },
    requestCreate: { key: 'request_create', name: 'request create', op: createRequest },
    responseRelease: {
      key: 'response_release',
      name: 'response release',
      op: async (i) => {
        const id = stock.take();
        if (id === undefined) return 'exhausted';
        const reply = await target().call(
          practitioner(AGENCIES.police.id, 'police_officer', i),
          'POST',
          `/v1/requests/${id}/response`,
          {
            data: {
              incidents: {
                items: [
                  {
                    date: '2026-10-01',
                    type: 'domestic',
                    role: 'victim',
                    summary: 'Call-out.',
                    reference: `INC-${i}`,
                  },
                ],
              },
            },
          },
        );
        if (reply.status !== 200) return 'error';
        stock.released.push(id);
        return 'ok';
      },
    },
    ledgeredRead: {
      key: 'ledgered_read',
      name: 'ledgered read',
      // A read of released data: each one commits a disclosure.viewed entry before the answer goes.
      op: async (i) => {
        const ids = stock.released;
        if (ids.length === 0) return 'exhausted';
        const reply = await target().call(
          practitioner(AGENCIES.csc.id, 'social_worker', i),
          'GET',
          `/v1/requests/${ids[(i * 7919) % ids.length]}`,
        );
        return expect(reply.status, 200);
      },
    },
  };
  for (const j of [
    set.flagSearch,
    set.concernSubmit,
    set.requestCreate,
    set.responseRelease,
    set.ledgeredRead,
  ]) {
    j.op = counted(j.key, j.op);
  }
  return set;
}
