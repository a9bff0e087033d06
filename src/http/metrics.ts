import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (docs/notifications.md, "Metrics"). One registry per gateway process; each
 * capability registers its own metrics on it. Labels are bounded: route patterns (never URLs), methods,
 * status codes, agency ids, and codes; never a person, a query string or a free text.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sgw_' });
  return registry;
}

/**
 * The collect of a gauge read from a store: when the read fails (the database is away) the scrape still
 * answers; the gauge says it does not know (NaN, or no series for a labelled gauge) rather than keep a
 * stale value or fail the whole scrape.
 */
export function readOrUnknown<G extends { reset(): void; set(value: number): void }>(
  read: (gauge: G) => Promise<void>,
  opts: { labelled?: boolean } = {},
) {
  return async function collect(this: G): Promise<void> {
    try {
      await read(this);
    } catch {
      this.reset();
      if (!opts.labelled) this.set(Number.NaN);
    }
  };
}

/** Requests by route pattern, method and status, and their latency. */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'sgw_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'sgw_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The pattern (/v1/requests/:id), never the URL: ids in paths would make every request a new series.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The separate listener (METRICS_PORT, METRICS_HOST): plain HTTP, `GET /metrics` only, kept off the
 * agencies' port so that it needs no client certificate and can be firewalled on its own.
 */
export async function startMetricsServer(
  registry: Registry,
  at: { host: string; port: number },
  onError: (err: unknown) => void = () => {},
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        onError(err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : at.port;
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
