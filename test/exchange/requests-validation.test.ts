import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { respondBy as respondByRule, type Within } from '../../src/calendar/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import type { HttpResult } from '../helpers/https.js';
import {
  CSC,
  child,
  DAY_MS,
  GP,
  harness,
  nhsNumber,
  PAYLOADS,
  POLICE,
  PROBATION,
  requestBody,
} from './requests-fixtures.js';

/**
 * Information requests: what the policy grants and refuses, the deadline, and bad input (contract
 * sections 2, 3, 6, 9), on PostgreSQL.
 */
t.test('requests: policy outcomes and validation (postgres)', async (t) => {
  const gw = await startTestGateway(t, { backend: 'postgres' });
  const h = harness(gw);

  /** A 400 naming `path` (exactly, among its errors), with nothing stored or ledgered. */
  const expectInvalid = async (t: Test, r: HttpResult, path: string, secrets: string[] = []) => {
    t.equal(r.status, 400, r.text);
    t.equal(r.json?.code, 'validation_failed');
    t.match(r.headers['content-type'], /^application\/problem\+json/);
    const errors: Array<{ path: string; message: string }> = r.json?.errors ?? [];
    t.ok(
      errors.some((e) => e.path === path),
      `errors name ${path}: ${JSON.stringify(errors)}`,
    );
    for (const e of errors) t.type(e.message, 'string');
    for (const s of secrets) t.notOk(r.text.includes(s), `the body does not echo ${s}`);
  };

  t.test('policy outcomes', async (t) => {
    t.test('mixed categories: 201 with granted and refused', async (t) => {
      const nhs = nhsNumber(40);
      const r = await h.ask(
        requestBody({
          to: GP,
          subject: child(nhs),
          categories: ['registration', 'medications', 'incidents', 'attendances'],
        }),
      );
      t.equal(r.status, 201, r.text);
      t.same(r.json.granted, ['registration', 'attendances']);
      t.same(r.json.refused, [
        {
          category: 'medications',
          code: 'policy_denied',
          ruleId: 'deny-medications-s47',
          message: 'denied by deny-medications-s47',
        },
        { category: 'incidents', code: 'policy_denied', message: 'incidents is not held by a health agency' },
      ]);
      const view = await h.gp('GET', `/v1/requests/${r.json.id}`);
      t.same(view.json.refused, r.json.refused, 'the holder sees what was refused');
      t.same(view.json.categories, ['registration', 'medications', 'incidents', 'attendances']);
      const entries = await h.audit(CSC, `nhsNumber=${nhs}`);
      t.match(
        entries.find((e) => e.action === 'request.refused'),
        {
          requestId: r.json.id,
          decision: 'deny',
          ruleIds: ['deny-medications-s47'],
          categories: ['medications', 'incidents'],
        },
      );
      t.match(
        entries.find((e) => e.action === 'request.created'),
        {
          ruleIds: ['s47-health'],
          categories: ['registration', 'attendances'],
        },
      );
      t.same(
        (await h.outbox(r.json.id)).map((e) => e.data.categories),
        [['registration', 'attendances']],
        'the holder is asked only for what was granted',
      );
    });

    t.test('a category the holder kind does not hold', async (t) => {
      const r = await h.ask(
        requestBody({ subject: child(nhsNumber(41)), categories: ['incidents', 'registration'] }),
      );
      t.equal(r.status, 201, r.text);
      t.same(r.json.granted, ['incidents']);
      t.same(r.json.refused, [
        {
          category: 'registration',
          code: 'policy_denied',
          message: 'registration is not held by a police agency',
        },
      ]);
      const only = await h.ask(requestBody({ subject: child(nhsNumber(41)), categories: ['registration'] }));
      t.equal(only.status, 403);
      t.equal(only.json.code, 'policy_denied');
      t.same(only.json.reasons, [
        { category: 'registration', message: 'registration is not held by a police agency' },
      ]);
    });

    t.test('everything denied: 403 policy_denied, ledgered', async (t) => {
      const nhs = nhsNumber(42);
      const r = await h.ask(
        requestBody({ subject: child(nhs), categories: ['intelligence'], caseReference: 'X-1' }),
      );
      t.equal(r.status, 403, r.text);
      t.equal(r.json.code, 'policy_denied');
      t.same(r.json.reasons, [
        {
          category: 'intelligence',
          ruleId: 'deny-intelligence-outside-mappa',
          message: 'denied by deny-intelligence-outside-mappa',
        },
      ]);
      t.equal(await h.requestsFor(nhs), 0);
      const entries = await h.audit(POLICE, `nhsNumber=${nhs}`);
      t.equal(entries.length, 1);
      t.match(entries[0], {
        action: 'request.refused',
        actor: { agency: CSC },
        counterpart: POLICE,
        caseReference: 'X-1',
        decision: 'deny',
        ruleIds: ['deny-intelligence-outside-mappa'],
        categories: ['intelligence'],
      });
      t.notOk(entries[0]?.requestId);
    });

    t.test('a role the policy does not name', async (t) => {
      const nhs = nhsNumber(43);
      const conference = requestBody({
        to: GP,
        subject: child(nhs),
        purpose: 'child_protection_conference',
        categories: ['registration'],
      });
      const mash = await h.as(CSC, 'mash_officer')('POST', '/v1/requests', conference);
      t.equal(mash.status, 403, mash.text);
      t.equal(mash.json.code, 'policy_denied');
      t.match(mash.json.reasons, [
        {
          category: 'registration',
          message:
            'no policy permits sharing registration for child_protection_conference with this requester',
        },
      ]);
      const worker = await h.sw('POST', '/v1/requests', conference);
      t.equal(worker.status, 201, 'the role cp-conference-health names');

      const mappa = requestBody({
        to: CSC,
        subject: child(nhs),
        purpose: 'mappa_risk_assessment',
        categories: ['cp_plan'],
      });
      const officer = await h.probation('POST', '/v1/requests', mappa);
      t.equal(officer.status, 403);
      t.equal(officer.json.code, 'policy_denied');
      const coordinator = await h.as(PROBATION, 'mappa_coordinator')('POST', '/v1/requests', mappa);
      t.equal(coordinator.status, 201, coordinator.text);

      // A requester kind no rule names at all: health asking police.
      const gp = await h.gp('POST', '/v1/requests', requestBody({ subject: child(nhs) }));
      t.equal(gp.status, 403);
      t.equal(gp.json.code, 'policy_denied');
      const refused = await h.audit(GP, `action=request.refused&nhsNumber=${nhs}`);
      t.same(
        refused.map((e) => [e.actor.agency, e.actor.role, e.counterpart]).sort(),
        [
          [CSC, 'mash_officer', GP],
          [GP, 'gp', POLICE],
        ],
        'each refusal is ledgered with its actor',
      );
    });

    t.test('respondBy', async (t) => {
      const expectDefault = async (t: Test, as: ReturnType<typeof h.as>, body: unknown, within: Within) => {
        const before = new Date();
        const r = await as('POST', '/v1/requests', body);
        const after = new Date();
        t.equal(r.status, 201, r.text);
        const expected = [before, after].map((d) => respondByRule(d, within).getTime());
        const got = Date.parse(r.json.respondBy);
        if ('hours' in within) {
          t.ok(
            got >= expected[0]! && got <= expected[1]!,
            `${r.json.respondBy} within ${JSON.stringify(within)}`,
          );
        } else {
          t.ok(expected.includes(got), `${r.json.respondBy} is ${JSON.stringify(within)} from now`);
        }
        const stored = await h.sw('GET', `/v1/requests/${r.json.id}`);
        if (stored.status === 200) t.equal(stored.json.respondBy, r.json.respondBy);
        return r;
      };
      const nhs = nhsNumber(44);
      await expectDefault(t, h.sw, requestBody({ subject: child(nhs) }), { workingDays: 1 });
      await expectDefault(
        t,
        h.sw,
        requestBody({
          to: GP,
          subject: child(nhs),
          purpose: 's17_assessment',
          categories: ['registration'],
          override: { reason: 'risk_of_significant_harm', justification: 'Urgent.' },
        }),
        { workingDays: 5 },
      );
      await expectDefault(
        t,
        h.police,
        requestBody({
          to: CSC,
          subject: child(nhs),
          purpose: 'risk_to_children_check',
          categories: ['cp_plan'],
        }),
        { hours: 24 },
      );
      await expectDefault(
        t,
        h.police,
        requestBody({
          to: PROBATION,
          subject: child(nhs),
          purpose: 'risk_to_children_check',
          categories: ['mappa', 'supervising_officer'],
        }),
        { workingDays: 2 },
      );

      // An explicit deadline in the future is kept, sooner or later than the rule's.
      for (const ahead of [3600 * 1000, 10 * DAY_MS]) {
        const at = new Date(Date.now() + ahead).toISOString();
        const r = await h.ask(requestBody({ subject: child(nhs), respondBy: at }));
        t.equal(r.status, 201, r.text);
        t.equal(r.json.respondBy, at);
        t.equal((await h.police('GET', `/v1/requests/${r.json.id}`)).json.respondBy, at);
      }
      const count = await h.requestsFor(nhs);
      for (const bad of [
        new Date(Date.now() - 60_000).toISOString(),
        new Date(Date.now() + 400 * DAY_MS).toISOString(),
        'next Tuesday',
      ]) {
        await expectInvalid(
          t,
          await h.ask(requestBody({ subject: child(nhs), respondBy: bad })),
          '/respondBy',
        );
      }
      t.equal(await h.requestsFor(nhs), count, 'nothing stored');
      // A bad deadline is bad input whatever the policy would decide: 400 before any 403.
      await expectInvalid(
        t,
        await h.ask(
          requestBody({
            subject: child(nhs),
            categories: ['intelligence'],
            respondBy: new Date(Date.now() - 60_000).toISOString(),
          }),
        ),
        '/respondBy',
      );
    });
  });

  t.test('bad input: 400 validation_failed naming the path', async (t) => {
    const nhs = nhsNumber(45);
    const ask = (over: Record<string, unknown>) => h.ask(requestBody({ subject: child(nhs), ...over }));
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['invalid NHS check digit', { subject: child('943 476 5918') }, '/subject/nhsNumber'],
      ['NHS number of letters', { subject: child('94347659AB') }, '/subject/nhsNumber'],
      [
        'no identifier',
        { subject: { type: 'child', name: { given: 'Sam', family: 'Example' } } },
        '/subject',
      ],
      ['unknown subject type', { subject: { ...child(nhs), type: 'pet' } }, '/subject/type'],
      ['unknown purpose', { purpose: 'curiosity' }, '/purpose'],
      ['unknown category', { categories: ['incidents', 'shoe_size'] }, '/categories/1'],
      ['duplicate categories', { categories: ['incidents', 'incidents'] }, '/categories'],
      ['empty categories', { categories: [] }, '/categories'],
      ['missing categories', { categories: undefined }, '/categories'],
      ['justification too long', { justification: 'x'.repeat(2001) }, '/justification'],
      ['empty justification', { justification: '' }, '/justification'],
      ['caseReference over 64', { caseReference: 'C'.repeat(65) }, '/caseReference'],
      ['unknown agency', { to: 'police-nowhere' }, '/to'],
      ['own agency', { to: CSC }, '/to'],
      ['extra property', { priority: 'high' }, '/priority'],
      ['extra subject property', { subject: { ...child(nhs), religion: 'none' } }, '/subject/religion'],
      [
        'bad override reason',
        { override: { reason: 'curiosity', justification: 'Because.' } },
        '/override/reason',
      ],
      [
        'override without justification',
        { override: { reason: 'risk_of_significant_harm' } },
        '/override/justification',
      ],
      ['bad consent status', { consent: { status: 'maybe' } }, '/consent/status'],
      [
        'related child with a bad NHS number',
        { relatedChildren: [child('943 476 5918')] },
        '/relatedChildren/0/nhsNumber',
      ],
    ];
    for (const [name, over, path] of cases) {
      t.test(name, async (t) => {
        await expectInvalid(t, await ask(over), path, ['9434765918', '943 476 5918', '94347659AB', nhs]);
      });
    }
    t.test('nothing was stored or ledgered', async (t) => {
      t.equal(await h.requestsFor(nhs), 0);
      t.equal((await h.audit(CSC, `nhsNumber=${nhs}`)).length, 0);
    });
    t.test('not JSON', async (t) => {
      const r = await gw.request('/v1/requests', gw.credentials(CSC), {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.token(CSC, 'social_worker')}`, 'content-type': 'text/plain' },
        rawBody: 'to=police-county',
      });
      t.equal(r.status, 415);
      t.equal(r.json.code, 'unsupported_media_type');
    });
  });

  t.test('bad responses: 400 naming /data/<category>/...', async (t) => {
    const police = await h.ask(
      requestBody({ subject: child(nhsNumber(46)), categories: ['incidents', 'domestic_abuse'] }),
    );
    t.equal(police.status, 201, police.text);
    const probation = await h.ask(
      requestBody({ to: PROBATION, subject: child(nhsNumber(47)), categories: ['mappa'] }),
    );
    t.equal(probation.status, 201, probation.text);
    const answer = (id: string, as: ReturnType<typeof h.as>, body: unknown) =>
      as('POST', `/v1/requests/${id}/response`, body);
    const incident = PAYLOADS.incidents.items[0];
    const secret = 'Confidential account of the call-out';
    const cases: Array<[string, string, ReturnType<typeof h.as>, unknown, string]> = [
      [
        'wrong enum',
        police.json.id,
        h.police,
        { data: { incidents: { items: [{ ...incident, role: 'bystander', summary: secret }] } } },
        '/data/incidents/items/0/role',
      ],
      [
        'extra field',
        police.json.id,
        h.police,
        { data: { incidents: { items: [{ ...incident, colour: 'red', summary: secret }] } } },
        '/data/incidents/items/0/colour',
      ],
      [
        'wrong type',
        police.json.id,
        h.police,
        { data: { domestic_abuse: { items: [{ ...PAYLOADS.domestic_abuse.items[0], marac: 'yes' }] } } },
        '/data/domestic_abuse/items/0/marac',
      ],
      ['missing items', police.json.id, h.police, { data: { incidents: {} } }, '/data/incidents/items'],
      ['not an object', police.json.id, h.police, { data: { incidents: 'none' } }, '/data/incidents'],
      [
        'out of range',
        probation.json.id,
        h.probation,
        { data: { mappa: { ...PAYLOADS.mappa, category: 7 } } },
        '/data/mappa/category',
      ],
      ['unknown category', police.json.id, h.police, { data: { shoe_size: { size: 9 } } }, '/data/shoe_size'],
      ['no data', police.json.id, h.police, { withheld: [] }, '/data'],
      [
        'withheld and answered',
        police.json.id,
        h.police,
        {
          data: { incidents: PAYLOADS.incidents },
          withheld: [{ category: 'incidents', reason: 'Ongoing investigation.' }],
        },
        '/withheld/0/category',
      ],
      [
        'withheld, not granted',
        police.json.id,
        h.police,
        {
          data: { incidents: PAYLOADS.incidents },
          withheld: [{ category: 'convictions', reason: 'Ongoing investigation.' }],
        },
        '/withheld/0/category',
      ],
      [
        'withheld without a reason',
        police.json.id,
        h.police,
        { data: { incidents: PAYLOADS.incidents }, withheld: [{ category: 'domestic_abuse' }] },
        '/withheld/0/reason',
      ],
    ];
    for (const [name, id, as, body, path] of cases) {
      t.test(name, async (t) => {
        await expectInvalid(t, await answer(id, as, body), path, [secret, 'Call-out at night']);
      });
    }
    t.test('the request still awaits its answer, and a good one is taken', async (t) => {
      t.equal(await h.countRows(`outbox WHERE type = 'request.responded'`), 0);
      const good = await answer(police.json.id, h.police, {
        data: { incidents: PAYLOADS.incidents },
        withheld: [{ category: 'domestic_abuse', reason: 'Ongoing investigation.' }],
      });
      t.equal(good.status, 200, good.text);
      const read = await h.sw('GET', `/v1/requests/${police.json.id}`);
      t.same(read.json.response.withheld, [{ category: 'domestic_abuse', reason: 'Ongoing investigation.' }]);
      t.same(Object.keys(read.json.response.data), ['incidents']);
    });
    t.test('a malformed or overlong id', async (t) => {
      const long = await h.police('POST', `/v1/requests/${'a'.repeat(65)}/response`, { data: {} });
      t.equal(long.status, 400);
      t.equal(long.json.code, 'validation_failed');
      const unknown = await h.police('POST', `/v1/requests/${randomUUID()}/response`, { data: {} });
      t.equal(unknown.status, 404);
    });
  });
});
