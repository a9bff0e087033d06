import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { startTestGateway } from '../helpers/gateway.js';
import {
  CSC,
  CSC2,
  child,
  DAY_MS,
  GP,
  harness,
  nhsNumber,
  PAYLOADS,
  POLICE,
  requestBody,
} from './requests-fixtures.js';

/**
 * Consent on information requests (contract sections 6 and 8), on both backends: the s17 / early help
 * rules need a given consent that covers subject + purpose + holder agency + category, or an override
 * the rule accepts; s47 needs none but reports a recorded refusal; a consent withdrawn before the answer
 * withholds at release. Consents are recorded through the consent routes.
 */
const s17 = (nhs: string, over: Record<string, unknown> = {}) =>
  requestBody({
    to: GP,
    subject: child(nhs),
    purpose: 's17_assessment',
    categories: ['registration'],
    justification: 'Child and family assessment; the family agreed to information being shared.',
    ...over,
  });

for (const backend of ['postgres', 'pglite'] as const) {
  t.test(`requests and consent (${backend})`, async (t) => {
    const gw = await startTestGateway(t, { backend });
    const h = harness(gw);

    /** 403 consent_required naming the category, with no request stored for the subject. */
    const expectConsentRequired = async (
      t: Test,
      nhs: string,
      body: unknown,
      category = 'registration',
      ruleId = 's17-health',
    ) => {
      const before = await h.requestsFor(nhs);
      const r = await h.ask(body);
      t.equal(r.status, 403, r.text);
      t.equal(r.json.code, 'consent_required');
      t.match(r.headers['content-type'], /^application\/problem\+json/);
      t.match(r.json.reasons, [{ category, ruleId, message: /consent is required/ }]);
      t.notOk(r.text.includes(nhs), 'the NHS number is not echoed');
      t.equal(await h.requestsFor(nhs), before, 'no request stored');
      return r;
    };

    t.test('no consent: 403 consent_required, and the refusal is ledgered anyway', async (t) => {
      const nhs = nhsNumber(10);
      const r = await expectConsentRequired(t, nhs, s17(nhs, { caseReference: 'CIN-7' }));
      t.equal(r.json.reasons.length, 1);
      t.match(r.json.reasons[0].message, /an override is allowed/);
      const refused = await h.audit(CSC, `nhsNumber=${nhs}`);
      t.equal(refused.length, 1, 'one entry, though the caller got 403');
      t.match(refused[0], {
        action: 'request.refused',
        actor: { agency: CSC, role: 'social_worker' },
        counterpart: GP,
        caseReference: 'CIN-7',
        purpose: 's17_assessment',
        decision: 'deny',
        ruleIds: ['s17-health'],
        categories: ['registration'],
      });
      t.notOk(refused[0]?.requestId, 'no request was made');
      t.equal((await h.audit(GP, `nhsNumber=${nhs}`)).length, 1, 'the holder’s auditor sees it too');

      // The requester saying consent was given does not make it so: only a record covers.
      await expectConsentRequired(t, nhs, s17(nhs, { consent: { status: 'given' } }));
      // early_help is voluntary too.
      await expectConsentRequired(t, nhs, s17(nhs, { purpose: 'early_help' }));
      // A child found by name and date of birth cannot carry a consent (it may be another child).
      const byName = { type: 'child', name: { given: 'Sam', family: 'Example' }, dateOfBirth: '2019-05-04' };
      await h.recordConsent(nhs);
      const r2 = await h.ask(s17(nhs, { subject: byName }));
      t.equal(r2.status, 403);
      t.equal(r2.json.code, 'consent_required');
    });

    t.test('consent given for this subject, purpose, holder and category: 201', async (t) => {
      const nhs = nhsNumber(11);
      const consentId = await h.recordConsent(nhs, { purposes: ['s17_assessment', 'early_help'] });
      for (const purpose of ['s17_assessment', 'early_help']) {
        const r = await h.ask(s17(nhs, { purpose, subject: child(`${nhs.slice(0, 3)} ${nhs.slice(3)}`) }));
        t.equal(r.status, 201, r.text);
        t.match(r.json, {
          status: 'awaiting_response',
          granted: ['registration'],
          refused: [],
          consent: { status: 'given', basis: 'consent' },
        });
        t.ok(r.json.lawfulBasis.includes('UK GDPR Art 6(1)(e)'));
        const read = await h.gp('GET', `/v1/requests/${r.json.id}`);
        t.same(read.json.consent, { status: 'given', basis: 'consent' });
        t.equal(read.json.consentRecordId, consentId, 'the record that decided, beside the outcome');
      }
      const created = await h.audit(CSC, `action=request.created&nhsNumber=${nhs}`);
      t.equal(created.length, 2);
      for (const e of created) {
        t.match(e, { consent: 'given', consentId, decision: 'permit', ruleIds: ['s17-health'] });
      }

      // A consent with no agencies and no categories covers them all.
      const all = nhsNumber(12);
      const allId = await h.recordConsent(all, { agencies: undefined, categories: undefined });
      const wide = await h.ask(s17(all, { categories: ['registration', 'missed_appointments'] }));
      t.equal(wide.status, 201, wide.text);
      t.same(wide.json.granted, ['registration', 'missed_appointments']);
      const police = await h.ask(
        s17(all, { to: POLICE, categories: ['incidents', 'domestic_abuse'], purpose: 's17_assessment' }),
      );
      t.equal(police.status, 201, police.text);
      t.same(police.json.consent, { status: 'given', basis: 'consent' });
      t.equal(police.json.consentRecordId, allId);
      // It concerns every agency but names none: only the recorder's auditor sees it recorded, and an
      // agency it decided for sees its id on the decision's own entries.
      t.equal((await h.audit(CSC, `action=consent.recorded&nhsNumber=${all}`)).length, 1);
      for (const agency of [GP, POLICE, CSC2]) {
        t.equal((await h.audit(agency, `action=consent.recorded&nhsNumber=${all}`)).length, 0, agency);
      }
      const [decidedForPolice] = await h.audit(POLICE, `action=request.created&nhsNumber=${all}`);
      t.equal(decidedForPolice?.consentId, allId);
    });

    t.test('a consent for another agency, category, purpose or child does not cover', async (t) => {
      const nhs = nhsNumber(13);
      await h.recordConsent(nhs, { agencies: [POLICE] });
      await expectConsentRequired(t, nhs, s17(nhs));

      const cat = nhsNumber(14);
      const catId = await h.recordConsent(cat, { categories: ['missed_appointments'] });
      await expectConsentRequired(t, cat, s17(cat));
      const mixed = await h.ask(s17(cat, { categories: ['registration', 'missed_appointments'] }));
      t.equal(mixed.status, 201, mixed.text);
      t.same(mixed.json.granted, ['missed_appointments']);
      t.match(mixed.json.refused, [
        { category: 'registration', code: 'consent_required', ruleId: 's17-health', message: /consent/ },
      ]);
      t.same(mixed.json.consent, { status: 'given', basis: 'consent' });
      t.equal(mixed.json.consentRecordId, catId);
      const partial = await h.audit(CSC, `action=request.refused&nhsNumber=${cat}`);
      t.equal(partial.filter((e) => e.requestId === mixed.json.id).length, 1, 'the partial refusal too');

      const purpose = nhsNumber(15);
      await h.recordConsent(purpose, { purposes: ['early_help'] });
      await expectConsentRequired(t, purpose, s17(purpose));
      t.equal((await h.ask(s17(purpose, { purpose: 'early_help' }))).status, 201);

      const other = nhsNumber(16);
      await h.recordConsent(nhsNumber(17));
      await expectConsentRequired(t, other, s17(other));
    });

    t.test('a consent not yet valid, or expired, does not cover', async (t) => {
      const future = nhsNumber(18);
      await h.recordConsent(future, { validFrom: new Date(Date.now() + DAY_MS).toISOString() });
      await expectConsentRequired(t, future, s17(future));
      const expired = nhsNumber(19);
      await h.recordConsent(expired, {
        validFrom: new Date(Date.now() - 60 * DAY_MS).toISOString(),
        validTo: new Date(Date.now() - DAY_MS).toISOString(),
      });
      await expectConsentRequired(t, expired, s17(expired));
    });

    t.test('a withdrawn consent no longer covers', async (t) => {
      const nhs = nhsNumber(20);
      const id = await h.recordConsent(nhs);
      t.equal((await h.ask(s17(nhs))).status, 201);
      await h.withdrawConsent(id);
      await expectConsentRequired(t, nhs, s17(nhs));
      await expectConsentRequired(t, nhs, s17(nhs, { consent: { status: 'given', consentId: id } }));
    });

    t.test('the most recent record decides', async (t) => {
      const nhs = nhsNumber(21);
      await h.recordConsent(nhs);
      const refusal = await h.recordConsent(nhs, { status: 'refused' });
      const r = await expectConsentRequired(t, nhs, s17(nhs));
      t.match(r.json.reasons[0].message, /a refusal is recorded/);
      const [refused] = await h.audit(CSC, `action=request.refused&nhsNumber=${nhs}`);
      t.equal(refused?.consentId, refusal, 'the entry names the record that decided');
      // Given again later: covers again.
      const latest = await h.recordConsent(nhs);
      const again = await h.ask(s17(nhs));
      t.equal(again.status, 201, again.text);
      t.same(again.json.consent, { status: 'given', basis: 'consent' });
      t.equal(again.json.consentRecordId, latest);
    });

    t.test(
      'a named consentId does not choose the record: the most recent applicable one decides',
      async (t) => {
        const nhs = nhsNumber(22);
        const older = await h.recordConsent(nhs);
        const refusal = await h.recordConsent(nhs, { status: 'refused' });
        // Issue 8 item 3: naming the older consent must not beat the later refusal.
        const named = await expectConsentRequired(
          t,
          nhs,
          s17(nhs, { consent: { status: 'given', consentId: older } }),
        );
        t.match(named.json.reasons[0].message, /a refusal is recorded/);
        const refusedEntries = await h.audit(CSC, `action=request.refused&nhsNumber=${nhs}`);
        t.equal(refusedEntries.length, 1);
        t.equal(refusedEntries[0]?.consentId, refusal, 'the ledger names the refusal that decided');

        // Given again: naming the older record is decided on the current one, and the answer says so.
        const current = await h.recordConsent(nhs);
        const r = await h.ask(s17(nhs, { consent: { status: 'given', consentId: older } }));
        t.equal(r.status, 201, r.text);
        t.same(r.json.consent, { status: 'given', basis: 'consent' });
        t.match(r.json, { consentRecordId: current, consentNotice: /not the most recent applicable record/ });
        const [created] = await h.audit(CSC, `action=request.created&nhsNumber=${nhs}`);
        t.equal(created?.consentId, current);
        // Naming another child's record, or one that does not exist, changes nothing either.
        const otherId = await h.recordConsent(nhsNumber(23));
        for (const consentId of [otherId, randomUUID()]) {
          const o = await h.ask(s17(nhs, { consent: { status: 'given', consentId } }));
          t.equal(o.status, 201, o.text);
          t.equal(o.json.consentRecordId, current);
        }
        const plain = await h.ask(s17(nhs, { consent: { status: 'given', consentId: current } }));
        t.same(plain.json.consent, { status: 'given', basis: 'consent' });
        t.equal(plain.json.consentRecordId, current);
        t.notOk('consentNotice' in plain.json, 'no notice');
        const malformed = await h.ask(s17(nhs, { consent: { status: 'given', consentId: 'consent-1' } }));
        t.equal(malformed.status, 400);
        t.match(malformed.json.errors, [{ path: '/consent/consentId' }]);
      },
    );

    t.test('at release too, the most recent record decides, and the entry names it', async (t) => {
      const nhs = nhsNumber(32);
      const given = await h.recordConsent(nhs);
      const r = await h.ask(s17(nhs, { consent: { status: 'given', consentId: given } }));
      t.equal(r.status, 201, r.text);
      const refusal = await h.recordConsent(nhs, { status: 'refused' });
      const answer = await h.gp('POST', `/v1/requests/${r.json.id}/response`, {
        data: { registration: PAYLOADS.registration },
      });
      t.equal(answer.status, 200, answer.text);
      t.same(answer.json.released, {}, 'the later refusal withholds at release');
      const [released] = await h.audit(CSC, `action=response.released&nhsNumber=${nhs}`);
      t.equal(released?.consentId, refusal);
    });

    t.test('a record decides only between its parties', async (t) => {
      const nhs = nhsNumber(33);
      // csc-south's consent naming the GP does not unlock csc-north's request to the GP...
      const south = await h.recordConsent(nhs, { agencies: [GP] }, CSC2);
      await expectConsentRequired(t, nhs, s17(nhs));
      const southAsks = await h.as(CSC2, 'social_worker')('POST', '/v1/requests', s17(nhs));
      t.equal(southAsks.status, 201, southAsks.text);
      t.equal(southAsks.json.consentRecordId, south, '...but unlocks csc-south’s own');

      // ...and csc-south's refusal naming the GP is not reported on csc-north's s47 request to the GP.
      const refusedNhs = nhsNumber(34);
      await h.recordConsent(
        refusedNhs,
        { status: 'refused', purposes: ['s47_enquiry'], agencies: [GP], categories: undefined },
        CSC2,
      );
      const s47 = await h.ask(
        requestBody({ to: GP, subject: child(refusedNhs), categories: ['registration'] }),
      );
      t.equal(s47.status, 201, s47.text);
      t.equal(s47.json.consent.status, 'not_required');

      // The parties' auditors see the record; csc-north's, no party to it, does not.
      for (const [agency, seen] of [
        [GP, 1],
        [CSC2, 1],
        [CSC, 0],
      ] as const) {
        const entries = await h.audit(agency, `action=consent.recorded&nhsNumber=${refusedNhs}`);
        t.equal(entries.length, seen, `${agency} auditor`);
      }
      const [entry] = await h.audit(GP, `action=consent.recorded&nhsNumber=${refusedNhs}`);
      t.match(entry, { actor: { agency: CSC2 }, counterpart: GP, counterparts: [GP] });
    });

    t.test(
      'a record is about one person: an adult’s consent by PNC id never decides for a child',
      async (t) => {
        const nhs = nhsNumber(35);
        const pnc = '2003/0045678Q';
        await h.recordConsent(nhs, {
          subject: { type: 'adult', pncId: pnc },
          purposes: ['s17_assessment'],
          agencies: undefined,
          categories: undefined,
        });
        // The probe's case: a child carrying that PNC id next to its own NHS number.
        await expectConsentRequired(
          t,
          nhs,
          s17(nhs, { subject: { type: 'child', nhsNumber: nhs, pncId: pnc } }),
        );
      },
    );

    t.test('a recorded refusal where consent is not the basis: refused_not_required', async (t) => {
      const nhs = nhsNumber(24);
      const refusal = await h.recordConsent(nhs, {
        status: 'refused',
        purposes: ['s47_enquiry'],
        agencies: undefined,
        categories: undefined,
      });
      const r = await h.ask(
        requestBody({ subject: child(nhs), categories: ['incidents', 'domestic_abuse'] }),
      );
      t.equal(r.status, 201, r.text);
      t.same(r.json.granted, ['incidents', 'domestic_abuse']);
      t.same(r.json.consent, { status: 'refused_not_required', basis: 'lawful basis without consent' });
      t.equal(r.json.consentRecordId, refusal);
      const [entry] = await h.audit(CSC, `action=request.created&nhsNumber=${nhs}`);
      t.match(entry, {
        consent: 'refused_not_required',
        consentId: refusal,
        decision: 'permit',
        ruleIds: ['s47-police'],
      });
      const read = await h.police('GET', `/v1/requests/${r.json.id}`);
      t.same(read.json.consent, r.json.consent, 'the holder sees the refusal');

      // The requester's own statement of a refusal is reported the same way.
      const stated = nhsNumber(25);
      const s = await h.ask(requestBody({ subject: child(stated), consent: { status: 'refused' } }));
      t.equal(s.status, 201, s.text);
      t.equal(s.json.consent.status, 'refused_not_required');
      // And with no refusal anywhere: not_required.
      const none = await h.ask(requestBody({ subject: child(nhsNumber(26)) }));
      t.equal(none.json.consent.status, 'not_required');
    });

    t.test('an override the rule allows: overridden, ledgered, the holder told', async (t) => {
      const nhs = nhsNumber(27);
      const override = {
        reason: 'risk_of_significant_harm',
        justification: 'Bruising seen today; asking the parents would put the child at risk.',
      };
      const r = await h.ask(s17(nhs, { categories: ['registration', 'missed_appointments'], override }));
      t.equal(r.status, 201, r.text);
      t.same(r.json.granted, ['registration', 'missed_appointments']);
      t.same(r.json.consent, { status: 'overridden', basis: 'override' });
      const read = await h.gp('GET', `/v1/requests/${r.json.id}`);
      t.same(read.json.override, override, 'the holder sees the override and why');

      const entries = await h.audit(GP, `nhsNumber=${nhs}`);
      t.same(entries.map((e) => e.action).sort(), ['consent.overridden', 'request.created']);
      t.match(
        entries.find((e) => e.action === 'consent.overridden'),
        {
          requestId: r.json.id,
          actor: { agency: CSC, role: 'social_worker' },
          counterpart: GP,
          purpose: 's17_assessment',
          consent: 'overridden',
          decision: 'permit',
          ruleIds: ['s17-health'],
          categories: ['registration', 'missed_appointments'],
          reason: 'risk_of_significant_harm',
        },
      );
      t.match(
        entries.find((e) => e.action === 'request.created'),
        { consent: 'overridden' },
      );

      const events = await h.outbox(r.json.id);
      const overridden = events.filter((e) => e.type === 'consent.overridden');
      t.equal(overridden.length, 1);
      t.equal(overridden[0]?.agency_id, GP, 'to the holder');
      t.match(overridden[0]?.data, {
        requestId: r.json.id,
        from: CSC,
        purpose: 's17_assessment',
        categories: ['registration', 'missed_appointments'],
        overrideReason: 'risk_of_significant_harm',
      });
      const text = JSON.stringify(overridden);
      for (const p of [nhs, 'Sam', 'Example', '2019-05-04', 'Bruising']) t.notOk(text.includes(p), `no ${p}`);

      // With a covering consent, an override is not needed and not used.
      const given = nhsNumber(28);
      const givenId = await h.recordConsent(given);
      const covered = await h.ask(s17(given, { override }));
      t.equal(covered.status, 201);
      t.same(covered.json.consent, { status: 'given', basis: 'consent' });
      t.equal(covered.json.consentRecordId, givenId);
      t.equal((await h.audit(GP, `action=consent.overridden&nhsNumber=${given}`)).length, 0);
      // Where consent is not required, an override changes nothing.
      const s47 = await h.ask(
        requestBody({ to: GP, subject: child(given), categories: ['registration'], override }),
      );
      t.equal(s47.status, 201);
      t.equal(s47.json.consent.status, 'not_required');
      t.same(
        (await h.outbox(s47.json.id)).map((e) => e.type),
        ['request.received'],
      );
    });

    t.test('an override the rule does not accept: still consent_required', async (t) => {
      const nhs = nhsNumber(29);
      for (const reason of ['prevention_of_crime', 'urgent_medical']) {
        const r = await expectConsentRequired(
          t,
          nhs,
          s17(nhs, { override: { reason, justification: 'We think it is urgent.' } }),
        );
        t.match(r.json.reasons[0].message, new RegExp(`does not accept an override for ${reason}`));
      }
      t.equal((await h.audit(GP, `action=consent.overridden&nhsNumber=${nhs}`)).length, 0);
      t.equal((await h.audit(GP, `action=request.refused&nhsNumber=${nhs}`)).length, 2);
      t.equal(
        await h.countRows(`outbox WHERE type = 'consent.overridden' AND data->>'overrideReason' <> $1`, [
          'risk_of_significant_harm',
        ]),
        0,
      );
    });

    t.test('consent withdrawn before the answer: withheld by policy at release', async (t) => {
      const nhs = nhsNumber(30);
      const registration = await h.recordConsent(nhs);
      await h.recordConsent(nhs, { categories: ['missed_appointments'] });
      const r = await h.ask(s17(nhs, { categories: ['registration', 'missed_appointments'] }));
      t.equal(r.status, 201, r.text);
      t.same(r.json.granted, ['registration', 'missed_appointments']);
      await h.withdrawConsent(registration);

      const answer = await h.gp('POST', `/v1/requests/${r.json.id}/response`, {
        data: { registration: PAYLOADS.registration, missed_appointments: PAYLOADS.missed_appointments },
      });
      t.equal(answer.status, 200, answer.text);
      t.same(answer.json.released, { missed_appointments: ['items.date', 'items.service'] });
      t.same(answer.json.withheldByPolicy, {
        registration: ['practiceCode', 'practiceName', 'registeredSince', 'usualGp'],
      });
      const read = await h.sw('GET', `/v1/requests/${r.json.id}`);
      t.same(read.json.response.data, { missed_appointments: PAYLOADS.missed_appointments });
      t.notOk(read.text.includes('Dr Patel'), 'nothing of the withheld category reaches the requester');

      const entries = await h.audit(CSC, `nhsNumber=${nhs}`);
      const withheld = entries.filter((e) => e.action === 'response.withheld');
      t.equal(withheld.length, 1);
      t.match(withheld[0], {
        requestId: r.json.id,
        actor: { agency: GP },
        counterpart: CSC,
        decision: 'deny',
        ruleIds: ['s17-health'],
        categories: ['registration'],
      });
      t.match(
        entries.find((e) => e.action === 'response.released'),
        { consent: 'given', fields: { missed_appointments: ['items.date', 'items.service'] } },
      );
      t.notOk(entries.find((e) => e.action === 'response.released')?.fields?.registration);
    });

    t.test('every consent withdrawn before the answer: nothing released, no consent claimed', async (t) => {
      const nhs = nhsNumber(31);
      const id = await h.recordConsent(nhs, { categories: ['registration', 'missed_appointments'] });
      const r = await h.ask(s17(nhs, { categories: ['registration', 'missed_appointments'] }));
      t.equal(r.status, 201, r.text);
      await h.withdrawConsent(id);
      const answer = await h.gp('POST', `/v1/requests/${r.json.id}/response`, {
        data: { registration: PAYLOADS.registration, missed_appointments: PAYLOADS.missed_appointments },
      });
      t.equal(answer.status, 200, answer.text);
      t.same(answer.json.released, {});
      t.same(Object.keys(answer.json.withheldByPolicy).sort(), ['missed_appointments', 'registration']);
      const read = await h.sw('GET', `/v1/requests/${r.json.id}`);
      t.same(read.json.response.data, {});
      const entries = await h.audit(CSC, `nhsNumber=${nhs}`);
      t.equal(entries.filter((e) => e.action === 'disclosure.viewed').length, 0, 'nothing to view');
      const released = entries.find((e) => e.action === 'response.released');
      t.same(released?.categories, [], 'the answer is on record, with nothing released');
      t.notOk(released?.consent, 'and it claims no consent basis for what it did not release');
      t.match(
        entries.find((e) => e.action === 'response.withheld'),
        {
          decision: 'deny',
          ruleIds: ['s17-health'],
          categories: ['registration', 'missed_appointments'],
        },
      );
    });
  });
}
