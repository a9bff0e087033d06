import t from 'tap';
import { webhookBody } from '../../src/notify/event.js';
import { signatureHeader, signingSecrets } from '../../src/notify/index.js';
import type { AgencyRecord } from '../../src/registry/index.js';

/** The signature header against answers computed outside the project, and which secrets sign when. */

const event = {
  id: 'e1',
  agency: 'police-county',
  type: 'request.received',
  occurredAt: '2026-01-05T10:00:00.000Z',
  data: { requestId: 'r1' },
};
const BODY =
  '{"id":"e1","type":"request.received","occurredAt":"2026-01-05T10:00:00.000Z","data":{"requestId":"r1"}}';

t.test('the body is the four fields, in this order, and nothing of the recipient', async (t) => {
  t.equal(webhookBody(event), BODY);
});

t.test('known answers', async (t) => {
  // printf '%s' '1700000000.<BODY>' | openssl dgst -sha256 -hmac 'whsec-test-new'
  const NEW = '0c7687d5978c90a900b8cf940136204d54c14379c09fd18ff30f70b877721287';
  // printf '%s' '1700000000.<BODY>' | openssl dgst -sha256 -hmac 'whsec-test-old'
  const OLD = '04e3c85108eda987884929935e29d36225a95eaae99afd076d2a0da34db88443';
  t.equal(signatureHeader(['whsec-test-new'], BODY, 1_700_000_000), `t=1700000000,v1=${NEW}`);
  t.equal(
    signatureHeader(['whsec-test-new', 'whsec-test-old'], BODY, 1_700_000_000),
    `t=1700000000,v1=${NEW},v1=${OLD}`,
    'during a rotation: the new secret first, then the previous one',
  );
  t.throws(() => signatureHeader([], BODY, 1), /needs a secret/);
});

t.test('the previous secret signs only during its grace period', async (t) => {
  const now = new Date('2026-01-05T10:00:00Z');
  const agency: AgencyRecord = {
    id: 'police-county',
    name: 'County Police',
    kind: 'police',
    status: 'active',
    webhookSecret: 'current',
    jwtKeys: [],
    certificates: [],
    createdAt: now.toISOString(),
  };
  t.same(signingSecrets(agency, now), ['current'], 'no rotation: one secret');
  const rotated = {
    ...agency,
    previousWebhookSecret: 'previous',
    previousWebhookSecretUntil: '2026-01-06T10:00:00Z',
  };
  t.same(signingSecrets(rotated, now), ['current', 'previous'], 'within the grace period: both');
  t.same(
    signingSecrets(rotated, new Date('2026-01-06T10:00:00Z')),
    ['current'],
    'at its end: the new one only',
  );
});
