import { rmSync } from 'node:fs';
import Fastify from 'fastify';
import t from 'tap';
import { registerIdentityWall } from '../../src/identity/index.js';
import { RegistryView } from '../../src/registry/index.js';
import { makeCerts } from '../helpers/gateway.js';

t.test('a /v1 route that declares neither roles nor public stops the app from being built', async (t) => {
  const certsDir = makeCerts();
  t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));
  const app = Fastify();
  t.teardown(() => app.close());
  await registerIdentityWall(app, { registry: new RegistryView(certsDir), gatewayId: 'sgw' });

  t.throws(
    () => app.get('/v1/forgotten', async () => ({})),
    /GET \/v1\/forgotten declares neither roles nor public/,
  );
  t.doesNotThrow(() => app.get('/v1/declared', { config: { roles: ['auditor'] } }, async () => ({})));
  t.doesNotThrow(() => app.get('/v1/open', { config: { public: true } }, async () => ({})));
  t.doesNotThrow(() => app.get('/health/x', async () => ({})), 'outside /v1 the wall does not apply');
});
