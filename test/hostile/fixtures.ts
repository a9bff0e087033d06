import type { TestGateway } from '../helpers/gateway.js';
import { CSC, GP, POLICE, validNhsNumberFrom } from '../helpers/ids.js';

/**
 * A few real records for the fuzzer's path parameters to name, so that mutated requests reach the
 * handlers' state checks (a decision on a concern, a response to a request) and not only their 404s.
 * Their data is ordinary (never planted): a response that shows it to an agency allowed to see it is
 * not an echo.
 */
const nhs = (n: number) => validNhsNumberFrom(975_500_000 + n * 10);

export interface Fixtures {
  ids: string[];
  /**
   * The agencies that may see or act on each record: the parties to a request or a concern, a flag's
   * publisher, an inbox item's agency. A consent, on which other agencies may be named, is left out.
   */
  parties: Map<string, readonly string[]>;
}

type Created = { status: number; text: string; json?: { id?: string } };

export async function createFixtures(gw: TestGateway): Promise<Fixtures> {
  const ids: string[] = [];
  const parties = new Map<string, readonly string[]>();
  const keep = (what: string, r: Created, by?: readonly string[]) => {
    if (r.status >= 300 || typeof r.json?.id !== 'string') {
      throw new Error(`fixture ${what}: ${r.status} ${r.text}`);
    }
    ids.push(r.json.id);
    if (by) parties.set(r.json.id, by);
  };
  keep(
    'request',
    await gw.call(CSC, 'social_worker', 'POST', '/v1/requests', {
      to: POLICE,
      subject: { type: 'child', nhsNumber: nhs(1) },
      purpose: 's47_enquiry',
      categories: ['incidents'],
      justification: 'Strategy discussion held today; s47 enquiry opened.',
    }),
    [CSC, POLICE],
  );
  keep(
    'concern',
    await gw.call(GP, 'gp', 'POST', '/v1/concerns', {
      to: CSC,
      child: {
        type: 'child',
        nhsNumber: nhs(2),
        name: { given: 'Sam', family: 'Example' },
        dateOfBirth: '2019-05-04',
      },
      categories: ['neglect'],
      summary: 'Attended three times with untreated injuries.',
      urgency: 'standard',
      consent: { status: 'not_sought', reason: 'Seeking consent could place the child at risk.' },
      referrerContact: { phone: '01234 567890' },
    }),
    [GP, CSC],
  );
  keep(
    'flag',
    await gw.call(CSC, 'social_worker', 'PUT', '/v1/flags', {
      subject: { type: 'child', nhsNumber: nhs(3) },
      flag: 'child_protection_plan',
      validFrom: '2025-01-01',
      contact: { team: 'MASH front door', phone: '01632 960001' },
    }),
    [CSC],
  );
  keep(
    'consent',
    await gw.call(GP, 'gp', 'POST', '/v1/consents', {
      subject: { type: 'child', nhsNumber: nhs(4) },
      givenBy: { relationship: 'parent', name: 'Jo Example' },
      status: 'given',
      purposes: ['early_help'],
      validFrom: '2026-01-01T00:00:00Z',
      evidence: 'Signed consent form.',
    }),
  );
  const inbox = await gw.call(POLICE, 'police_officer', 'GET', '/v1/inbox');
  const item = inbox.json?.items?.[0]?.id;
  if (typeof item === 'string') {
    ids.push(item);
    parties.set(item, [POLICE]);
  }
  return { ids, parties };
}
