import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { respondBy as respondByRule } from '../../src/calendar/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  child,
  harness,
  nhsNumber,
  PAYLOADS,
  POLICE,
  PROBATION,
  requestBody,
} from './requests-fixtures.js';

/**
 * Information requests under a bundle with two rules the default one lacks: a second s47 rule for police
 * bail conditions with a 4-hour deadline (so one request matches rules with different deadlines), and a
 * consent-required rule that allows no override. On PostgreSQL.
 */
const EXTRA_RULES = {
  'test-s47-bail-urgent.yaml': `id: test-s47-bail-urgent
description: Test rule. Bail conditions for a s47 enquiry are wanted within four hours.
purposes: [s47_enquiry]
requester: { agencyKinds: [children_social_care] }
holder: { agencyKinds: [police] }
lawfulBasis: ["UK GDPR Art 6(1)(e)", "DPA 2018 Part 3"]
consent: not_required
respondWithin: { hours: 4 }
share:
  bail_conditions: [items.until]
`,
  'test-early-help-csc.yaml': `id: test-early-help-csc
description: Test rule. Police may ask children's social care for early help, with consent only.
purposes: [early_help]
requester: { agencyKinds: [police] }
holder: { agencyKinds: [children_social_care] }
lawfulBasis: ["UK GDPR Art 6(1)(e)"]
consent: required
allowOverride: false
respondWithin: { workingDays: 3 }
share:
  case_summary: "*"
`,
  'test-no-deadline.yaml': `id: test-no-deadline
description: Test rule. Probation may ask police about incidents for a safeguarding concern; no deadline set.
purposes: [safeguarding_concern]
requester: { agencyKinds: [probation] }
holder: { agencyKinds: [police] }
lawfulBasis: ["UK GDPR Art 6(1)(e)"]
consent: not_required
share:
  incidents: [items.date]
`,
};

t.test('requests under a custom bundle (postgres)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sgw-policies-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const source = path.resolve('policies');
  for (const f of readdirSync(source).filter((f) => f.endsWith('.yaml'))) {
    copyFileSync(path.join(source, f), path.join(dir, f));
  }
  for (const [f, text] of Object.entries(EXTRA_RULES)) writeFileSync(path.join(dir, f), text);
  const gw = await startTestGateway(t, {
    backend: 'postgres',
    env: { SGW_POLICIES_DIR: dir, SGW_DEFAULT_RESPOND_WORKING_DAYS: '7' },
  });
  const h = harness(gw);
  const rules = (await h.sw('GET', '/v1/policies')).json.rules.map((r: { id: string }) => r.id);
  t.ok(rules.includes('test-s47-bail-urgent') && rules.includes('test-early-help-csc'), 'the bundle loaded');

  t.test('respondBy defaults to the strictest rule among the granted categories', async (t) => {
    const nhs = nhsNumber(80);
    const ask = async (categories: string[]) => {
      const before = new Date();
      const r = await h.ask(requestBody({ subject: child(nhs), categories }));
      const after = new Date();
      t.equal(r.status, 201, r.text);
      return { r, before, after };
    };
    const both = await ask(['incidents', 'bail_conditions']);
    const got = Date.parse(both.r.json.respondBy);
    t.ok(
      got >= both.before.getTime() + 4 * 3600_000 && got <= both.after.getTime() + 4 * 3600_000,
      `${both.r.json.respondBy}: four hours, the stricter of s47-police and test-s47-bail-urgent`,
    );
    // Fields of the two rules unite; the lawful bases too.
    t.same(both.r.json.granted, ['incidents', 'bail_conditions']);
    const alone = await ask(['incidents']);
    const oneDay = [alone.before, alone.after].map((d) => respondByRule(d, { workingDays: 1 }).toISOString());
    t.ok(oneDay.includes(alone.r.json.respondBy), 'incidents alone: s47-police, one working day');
    // A refused category's rule sets no deadline: intelligence is denied, so one working day still.
    const refused = await ask(['incidents', 'intelligence']);
    t.ok(
      [refused.before, refused.after]
        .map((d) => respondByRule(d, { workingDays: 1 }).toISOString())
        .includes(refused.r.json.respondBy),
    );

    const answer = await h.police('POST', `/v1/requests/${both.r.json.id}/response`, {
      data: {
        incidents: PAYLOADS.incidents,
        bail_conditions: { items: [{ condition: 'Not to contact the child', until: '2027-01-01' }] },
      },
    });
    t.equal(answer.status, 200, answer.text);
    t.same(answer.json.released.bail_conditions, ['items.condition', 'items.until'], 's47-police shares all');
    const [entry] = (await h.audit(CSC, `action=response.released&nhsNumber=${nhs}`)).filter(
      (e) => e.requestId === both.r.json.id,
    );
    t.same([...(entry?.ruleIds ?? [])].sort(), ['s47-police', 'test-s47-bail-urgent']);
  });

  t.test('no matching rule sets respondWithin: the configured default, in working days', async (t) => {
    const before = new Date();
    const r = await gw.call(PROBATION, 'probation_officer', 'POST', '/v1/requests', {
      ...requestBody({ subject: child(nhsNumber(82)), categories: ['incidents'] }),
      purpose: 'safeguarding_concern',
    });
    const after = new Date();
    t.equal(r.status, 201, r.text);
    t.ok(
      [before, after]
        .map((d) => respondByRule(d, { workingDays: 7 }).toISOString())
        .includes(r.json.respondBy),
      `${r.json.respondBy}: SGW_DEFAULT_RESPOND_WORKING_DAYS=7`,
    );
  });

  t.test('a consent-required rule that allows no override: still consent_required', async (t) => {
    const nhs = nhsNumber(81);
    const body = (over: Record<string, unknown> = {}) =>
      requestBody({
        to: CSC,
        subject: child(nhs),
        purpose: 'early_help',
        categories: ['case_summary'],
        ...over,
      });
    for (const reason of ['risk_of_significant_harm', 'prevention_of_crime']) {
      const r = await h.police(
        'POST',
        '/v1/requests',
        body({ override: { reason, justification: 'We believe it is urgent.' } }),
      );
      t.equal(r.status, 403, r.text);
      t.equal(r.json.code, 'consent_required');
      t.match(r.json.reasons, [
        {
          category: 'case_summary',
          ruleId: 'test-early-help-csc',
          message: /the policy does not allow an override/,
        },
      ]);
    }
    t.equal(await h.requestsFor(nhs), 0);
    t.equal((await h.audit(POLICE, `action=consent.overridden&nhsNumber=${nhs}`)).length, 0);
    t.equal((await h.audit(POLICE, `action=request.refused&nhsNumber=${nhs}`)).length, 2);

    // A consent CSC records naming only itself concerns no sharing with the police: still refused.
    await h.recordConsent(nhs, { purposes: ['early_help'], agencies: [CSC], categories: ['case_summary'] });
    const notAParty = await h.police('POST', '/v1/requests', body());
    t.equal(notAParty.status, 403, notAParty.text);
    t.equal(notAParty.json.code, 'consent_required');
    // With a consent naming the police, the same request is granted.
    await h.recordConsent(nhs, {
      purposes: ['early_help'],
      agencies: [POLICE],
      categories: ['case_summary'],
    });
    const before = new Date();
    const ok = await h.police('POST', '/v1/requests', body());
    const after = new Date();
    t.equal(ok.status, 201, ok.text);
    t.same(ok.json.consent, { status: 'given', basis: 'consent' });
    t.ok(
      [before, after]
        .map((d) => respondByRule(d, { workingDays: 3 }).toISOString())
        .includes(ok.json.respondBy),
      'three working days, as the rule says',
    );
  });
});
