import type { Caller, Practitioner } from './client.js';
import type { JourneySet } from './journeys.js';
import { AGENCIES } from './workspace.js';

const officer: Practitioner = { agency: AGENCIES.police.id, role: 'police_officer', sub: 'smoke' };
const socialWorker: Practitioner = { agency: AGENCIES.csc.id, role: 'social_worker', sub: 'smoke' };

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`the journeys do not do what the bench measures: ${what}`);
}

/**
 * Before anything is timed: each journey's answer says what the bench claims it measures (a search that
 * finds the flag, a request granted, a release that releases, a read that shows the data). A change in
 * the policies or the routes that turned a journey into a cheap refusal would otherwise look fast.
 */
export async function smokeTest(set: JourneySet, caller: Caller): Promise<void> {
  const search = async (nhsNumber: string) =>
    (
      await caller.call(
        officer,
        'POST',
        '/v1/flags/search',
        { subject: { type: 'child', nhsNumber }, purpose: 'risk_to_children_check' },
        true,
      )
    ).json as { match?: string; results?: Array<{ flag: string }> };
  const found = await search(set.flagged[0] as string);
  must(
    found.match === 'exact' && found.results?.[0]?.flag === 'child_protection_plan',
    'flag search finds the plan',
  );

  await set.topUpRequests(1);
  const id = set.stock.take() as string;
  const reply = await caller.call(
    officer,
    'POST',
    `/v1/requests/${id}/response`,
    {
      data: {
        incidents: {
          items: [{ date: '2026-10-01', type: 'domestic', role: 'victim', summary: 'x', reference: 'R' }],
        },
      },
    },
    true,
  );
  const released = (reply.json as { released?: Record<string, string[]> }).released ?? {};
  must(reply.status === 200 && (released.incidents ?? []).length > 0, 'a response releases the incidents');

  const read = await caller.call(socialWorker, 'GET', `/v1/requests/${id}`, undefined, true);
  const view = read.json as { status?: string; response?: { data?: Record<string, unknown> } };
  must(
    view.status === 'responded' && view.response?.data?.incidents !== undefined,
    'the requester reads the data',
  );
}
