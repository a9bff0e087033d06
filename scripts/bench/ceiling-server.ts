/**
 * The ceiling: bare Fastify over the gateway's own HTTPS (its server certificate, TLS policy and client
 * certificate requirement, keep-alive) answering a tiny JSON, in a process of its own as the gateway is.
 * Started by the bench: BENCH_CEILING_PORT and BENCH_CEILING_CERTS (the bench's certs folder).
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { secureContextOptions } from '../../src/http/tls.js';
import { certPaths } from '../../src/registry/index.js';

const port = Number(process.env.BENCH_CEILING_PORT);
const p = certPaths(process.env.BENCH_CEILING_CERTS ?? '');
const app = Fastify({
  logger: false,
  keepAliveTimeout: 10_000,
  https: {
    ...secureContextOptions({
      key: readFileSync(p.serverKey, 'utf8'),
      cert: readFileSync(p.serverCert, 'utf8'),
      ca: readFileSync(p.caCert, 'utf8'),
    }),
    requestCert: true,
    rejectUnauthorized: true,
  },
});
app.get('/ceiling', async () => ({ status: 'ok' }));
await app.listen({ port, host: '127.0.0.1' });
const close = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', close);
process.once('SIGINT', close);
