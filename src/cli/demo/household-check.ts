import { ADULT, CASE_REFERENCE, CHILD, POLICE_OFFICER, PROBATION_OFFICER, SOCIAL_WORKER } from './cast.js';
import { expect, list } from './client.js';
import { type Demo, inboxOf } from './journey.js';

interface FlagResult {
  flag: string;
  agency: { id: string };
  details?: Record<string, unknown>;
}

interface SubjectAnswer {
  match: string;
  results: FlagResult[];
}

const today = () => new Date().toISOString().slice(0, 10);

/**
 * The police officer's journey (contract section 7): probation and children's social care publish their
 * flags; an officer checks a household (the adult and the child) in one call; the local authority is
 * told its child's flag was looked at.
 */
export async function householdCheckJourney(demo: Demo): Promise<void> {
  const { run, as, who } = demo;
  run.heading('The instant check: a police officer checks a household');
  const published = await run.step(
    `${who(PROBATION_OFFICER)} PUT /v1/flags mappa_managed (the adult, by PNC id)`,
    [201],
    () =>
      as(PROBATION_OFFICER, 'PUT', '/v1/flags', {
        subject: ADULT,
        flag: 'mappa_managed',
        details: { category: 2, level: 2, note: 'Managed under MAPPA since 2024 (demo).' },
        validFrom: today(),
        contact: { team: 'Demo MAPPA Unit', phone: '01234 000111' },
      }),
    () => 'published',
  );
  const mappaFlag = (published.body as { id: string }).id;
  const plan = await run.step(
    `${who(SOCIAL_WORKER)} PUT /v1/flags child_protection_plan (the child, by NHS number)`,
    [201],
    () =>
      as(SOCIAL_WORKER, 'PUT', '/v1/flags', {
        subject: CHILD,
        flag: 'child_protection_plan',
        details: { category: 'neglect' },
        validFrom: today(),
        contact: { team: 'Demo Child Protection Team', phone: '01234 000222' },
      }),
    () => 'published',
  );
  const planFlag = (plan.body as { id: string }).id;

  await run.step(
    `${who(POLICE_OFFICER)} POST /v1/flags/search, household of 2, risk_to_children_check`,
    [200],
    () =>
      as(POLICE_OFFICER, 'POST', '/v1/flags/search', {
        subjects: [ADULT, CHILD],
        purpose: 'risk_to_children_check',
        caseReference: CASE_REFERENCE,
      }),
    (r) => {
      const [adult, child] = (r.body as { results: SubjectAnswer[] }).results;
      const mappa = adult?.results.find((x) => x.flag === 'mappa_managed');
      const cp = child?.results.find((x) => x.flag === 'child_protection_plan');
      expect(adult?.match === 'exact' && mappa !== undefined, 'the MAPPA flag was not found on the adult');
      expect(mappa?.details?.level !== undefined, 'the MAPPA level the policy shares with police is missing');
      expect(mappa?.details?.note === undefined, 'a detail the policy does not share was shown');
      expect(child?.match === 'exact' && cp !== undefined, 'the child’s plan was not found');
      const shown = (x: FlagResult) =>
        `${x.flag} by ${x.agency.id}${x.details ? ` {${Object.keys(x.details).sort().join(', ')}}` : ''}`;
      return `adult: ${adult?.match}, ${list(adult?.results.map(shown) ?? [])}; child: ${child?.match}, ${list(
        child?.results.map(shown) ?? [],
      )}`;
    },
  );
  await run.step(
    `${who(SOCIAL_WORKER)} GET /v1/inbox`,
    [200],
    () => as(SOCIAL_WORKER, 'GET', '/v1/inbox?limit=200'),
    (r) => {
      const items = inboxOf(r).filter((i) => i.type === 'flag.accessed' && i.ref === planFlag);
      expect(items.length === 1, 'children’s social care was not told its child’s flag was looked at');
      return 'flag.accessed: the child’s plan was looked at (who, when, why; no personal data)';
    },
  );
  await run.step(
    `${who(PROBATION_OFFICER)} GET /v1/inbox`,
    [200],
    () => as(PROBATION_OFFICER, 'GET', '/v1/inbox?limit=200'),
    (r) => {
      const items = inboxOf(r).filter((i) => i.type === 'flag.accessed' && i.ref === mappaFlag);
      expect(items.length === 0, 'a look at an offender flag was notified');
      return 'no flag.accessed: only a look at a child’s flag is notified (as NHS CP-IS does)';
    },
  );
}
