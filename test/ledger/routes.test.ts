import { createPublicKey, verify } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import t from 'tap';
import { forbidden } from '../../src/http/errors.js';
import { registerProblemHandling } from '../../src/http/problem.js';
import type { Practitioner, PractitionerRole } from '../../src/identity/index.js';
import { ledgerRoutes, recordedTransaction } from '../../src/ledger/index.js';
import { rootHash } from '../../src/ledger/merkle.js';
import { withStoredNodes } from '../../src/ledger/tree-store.js';
import { entry, GATEWAY_ID, type LedgerFixture, ledgerFixture, NHS, NHS_DIGITS } from './fixtures/ledger.js';
import { refVerifyConsistency, refVerifyInclusion } from './fixtures/reference.js';

/**
 * The routes behind a stand-in for the identity wall (x-test-agency / x-test-role headers), enforcing
 * the same route config (roles, public) the real wall reads.
 */
async function app(f: LedgerFixture): Promise<FastifyInstance> {
  const a = Fastify({
    ajv: {
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true },
    },
  });
  registerProblemHandling(a);
  a.decorateRequest('practitioner', null as unknown as Practitioner);
  a.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    const agency = String(request.headers['x-test-agency']);
    const role = String(request.headers['x-test-role']) as PractitionerRole;
    request.practitioner = { agency, kind: 'police', sub: `${role}-1`, role, name: 'Test', jti: 'j' };
    const roles = request.routeOptions.config?.roles;
    if (roles && !roles.includes(role)) throw forbidden();
  });
  await a.register(ledgerRoutes, { prefix: '/v1', ledger: f.ledger, policyVersion: () => 'v-test' });
  return a;
}

const as = (agency: string, role = 'auditor') => ({ 'x-test-agency': agency, 'x-test-role': role });

t.test('audit routes', async (t) => {
  const f = await ledgerFixture(t, 'postgres');
  const api = await app(f);
  t.teardown(() => api.close());
  // police <-> probation about NHS; csc-north <-> gp about another child; interleaved.
  for (let i = 0; i < 57; i++) {
    await recordedTransaction(f.db, (tx) =>
      f.ledger.append(tx, {
        entries: [
          entry(i),
          entry(i, {
            actor: { agency: 'csc-north', sub: 'sw-1', role: 'social_worker' },
            counterpart: 'gp-riverside',
            subject: { nhsNumber: '4010232137' },
            action: 'request.created',
          }),
        ],
      }),
    );
  }
  await f.ledger.flush();

  t.test('only auditors', async (t) => {
    const r = await api.inject({ url: '/v1/audit', headers: as('police-county', 'police_officer') });
    t.equal(r.statusCode, 403);
    t.equal(r.json().code, 'forbidden');
  });

  t.test('pagination: every visible entry once, in order, no gaps', async (t) => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const r = await api.inject({ url: `/v1/audit?limit=10${q}`, headers: as('probation-region') });
      t.equal(r.statusCode, 200);
      const body = r.json() as {
        entries: Array<{ seq: number; counterpart: string }>;
        nextCursor: string | null;
      };
      seen.push(...body.entries.map((e) => e.seq));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    t.equal(pages, 6);
    const all = (
      await f.db.query<{ seq: number }>(
        "SELECT seq FROM ledger_entries WHERE actor_agency = 'probation-region' OR counterpart = 'probation-region' ORDER BY seq",
      )
    ).map((r) => r.seq);
    t.equal(seen.length, 57);
    t.same(seen, all, 'no duplicates, no gaps');
  });

  t.test('auditor isolation: filters never widen', async (t) => {
    const mine = await api.inject({ url: '/v1/audit?limit=500', headers: as('police-county') });
    const entries = mine.json().entries as Array<{ actor: { agency: string }; counterpart?: string }>;
    t.equal(entries.length, 57);
    t.ok(entries.every((e) => e.actor.agency === 'police-county' || e.counterpart === 'police-county'));
    for (const url of [
      '/v1/audit?agency=csc-north',
      '/v1/audit?agency=gp-riverside',
      '/v1/audit?nhsNumber=4010232137',
      '/v1/audit?actorSub=sw-1',
      '/v1/audit?action=request.created',
    ]) {
      const r = await api.inject({ url, headers: as('police-county') });
      t.same(r.json().entries, [], url);
    }
    const other = await api.inject({
      url: '/v1/audit?nhsNumber=4010232137&limit=500',
      headers: as('gp-riverside'),
    });
    t.equal(other.json().entries.length, 57, 'the other agency sees its own');
    const byNhs = await api.inject({
      url: `/v1/audit?nhsNumber=${encodeURIComponent(NHS)}&limit=5`,
      headers: as('police-county'),
    });
    t.equal(byNhs.json().entries.length, 5);
    const bad = await api.inject({ url: '/v1/audit?limit=0', headers: as('police-county') });
    t.equal(bad.statusCode, 400);
    t.equal(bad.json().code, 'validation_failed');
    for (const url of ['/v1/audit?nhsNumber=9434765918', '/v1/audit/subject-report?nhsNumber=9434765918']) {
      const typo = await api.inject({ url, headers: as('police-county') });
      t.equal(typo.statusCode, 400, `${url}: a bad check digit is an error, not "no entries"`);
      t.same(typo.json().errors, [
        { path: 'querystring:/nhsNumber', message: 'must be 10 digits with a valid modulus-11 check digit' },
      ]);
    }
    const future = await api.inject({
      url: '/v1/audit?from=2999-01-01T00:00:00Z',
      headers: as('police-county'),
    });
    t.same(future.json().entries, []);
  });

  t.test('subject report, itself ledgered', async (t) => {
    const r = await api.inject({
      url: `/v1/audit/subject-report?nhsNumber=${NHS_DIGITS}`,
      headers: as('probation-region'),
    });
    t.equal(r.statusCode, 200);
    const body = r.json() as {
      count: number;
      entries: Array<{ actor: { agency: string }; purpose: string; categories: string[] }>;
    };
    t.equal(body.count, 57);
    t.same(body.entries[0]?.categories, ['flags']);
    t.equal(body.entries[0]?.purpose, 'risk_to_children_check');
    const none = await api.inject({ url: '/v1/audit/subject-report', headers: as('probation-region') });
    t.equal(none.statusCode, 400);
    await f.ledger.flush();
    const logged = await api.inject({
      url: '/v1/audit?action=audit.subject_report',
      headers: as('probation-region'),
    });
    const e = logged.json().entries as Array<{
      actor: { sub: string };
      subjectRef: string;
      policyVersion: string;
    }>;
    t.equal(e.length, 1);
    t.equal(e[0]?.actor.sub, 'auditor-1');
    t.equal(e[0]?.policyVersion, 'v-test');
    t.notMatch(JSON.stringify(e), new RegExp(NHS_DIGITS));
  });

  t.test('checkpoint, keys, proofs and consistency verify with independent code', async (t) => {
    const keys = await api.inject({ url: '/v1/audit/keys' });
    t.equal(keys.statusCode, 200, 'keys need no identity');
    const [key] = keys.json() as Array<{ keyId: string; alg: string; publicKeyPem: string }>;
    t.equal(key?.alg, 'Ed25519');
    const cp = (await api.inject({ url: '/v1/audit/checkpoint', headers: as('police-county') })).json() as {
      treeSize: number;
      rootHash: string;
      timestamp: string;
      keyId: string;
      signature: string;
    };
    t.equal(cp.keyId, key?.keyId);
    const text = `sgw-checkpoint\n${GATEWAY_ID}\n${cp.treeSize}\n${cp.rootHash}\n${cp.timestamp}\n`;
    t.ok(
      verify(
        null,
        Buffer.from(text),
        createPublicKey(key!.publicKeyPem),
        Buffer.from(cp.signature, 'base64'),
      ),
    );
    const root = Buffer.from(cp.rootHash, 'hex');
    for (const seq of [1, 2, 57, cp.treeSize]) {
      const p = (
        await api.inject({
          url: `/v1/audit/entries/${seq}/proof?treeSize=${cp.treeSize}`,
          headers: as('police-county'),
        })
      ).json();
      t.ok(
        refVerifyInclusion(
          p.leafIndex,
          p.treeSize,
          Buffer.from(p.leafHash, 'hex'),
          p.auditPath.map((h: string) => Buffer.from(h, 'hex')),
          root,
        ),
        `inclusion of ${seq}`,
      );
    }
    const old = (
      await api.inject({ url: '/v1/audit/entries/1/proof?treeSize=40', headers: as('police-county') })
    ).json();
    t.equal(old.treeSize, 40);
    const c = (
      await api.inject({
        url: `/v1/audit/consistency?from=40&to=${cp.treeSize}`,
        headers: as('police-county'),
      })
    ).json();
    const rootOf40 = await withStoredNodes(f.db, (get) => rootHash(get, 40));
    t.ok(
      refVerifyConsistency(
        40,
        cp.treeSize,
        rootOf40,
        root,
        c.proof.map((h: string) => Buffer.from(h, 'hex')),
      ),
    );
    const beyond = await api.inject({
      url: `/v1/audit/entries/1/proof?treeSize=${cp.treeSize + 100}`,
      headers: as('police-county'),
    });
    t.equal(beyond.statusCode, 400);
    const missing = await api.inject({ url: '/v1/audit/entries/99999/proof', headers: as('police-county') });
    t.equal(missing.statusCode, 404);
    const v = (await api.inject({ url: '/v1/audit/verify', headers: as('police-county') })).json();
    t.equal(v.ok, true);
    t.equal(v.entries, cp.treeSize);
  });

  t.test('checkpoints and proofs are open to every role; entries and verify to auditors only', async (t) => {
    for (const role of ['police_officer', 'agency_admin', 'auditor']) {
      for (const url of [
        '/v1/audit/checkpoint',
        '/v1/audit/entries/1/proof',
        '/v1/audit/consistency?from=1&to=40',
      ]) {
        t.equal(
          (await api.inject({ url, headers: as('police-county', role) })).statusCode,
          200,
          `${role} ${url}`,
        );
      }
    }
    for (const url of ['/v1/audit', `/v1/audit/subject-report?nhsNumber=${NHS_DIGITS}`, '/v1/audit/verify']) {
      const r = await api.inject({ url, headers: as('police-county', 'police_officer') });
      t.equal(r.statusCode, 403, `police_officer ${url}`);
    }
  });
});
