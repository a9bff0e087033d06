import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { type NotifyEvent, webhookBody } from './event.js';
import { signatureHeader } from './signature.js';
import { checkWebhookUrl, type Resolver, type UrlPolicy, WebhookUrlRefused } from './ssrf.js';

export interface DeliveryOptions extends UrlPolicy {
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), added to Node's own list; undefined: Node's list only. */
  extraCa?: string | undefined;
  resolve?: Resolver;
}

/**
 * What one try came to. `code` is all that is kept of a failure (logs, dead letters, metrics): a status
 * class or a network condition, never what the receiver wrote back.
 */
export type DeliveryOutcome =
  | { ok: true; status: number }
  | { ok: false; code: FailureCode; status?: number };

export type FailureCode =
  | 'url_invalid'
  | 'scheme_refused'
  | 'dns_error'
  | 'address_refused'
  | 'redirect_refused'
  | `status_${number}`
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'tls_error'
  | 'network_error';

const TLS_ERROR = /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME/;

class TryTimeout extends Error {}

function failureOf(err: unknown): FailureCode {
  if (err instanceof TryTimeout) return 'timeout';
  const code = String((err as NodeJS.ErrnoException).code ?? '');
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection_reset';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (TLS_ERROR.test(code)) return 'tls_error';
  return 'network_error';
}

function trustedCa(extraCa: string | undefined): string[] | undefined {
  // `ca` replaces Node's list rather than adding to it, so the extra CA goes with the whole list.
  return extraCa === undefined ? undefined : [...tls.rootCertificates, extraCa];
}

/**
 * One signed POST of an event to a receiver. The URL is checked and resolved once (ssrf.ts), and the
 * connection goes to that checked address while SNI, the Host header and the certificate check use the
 * name; redirects are not followed (a 3xx is a failed try); the whole try, connect to status line, is
 * bounded by `timeoutMs`. Never throws: every way of failing is an outcome.
 */
export async function postWebhook(
  urlText: string,
  secrets: readonly string[],
  event: NotifyEvent,
  opts: DeliveryOptions,
): Promise<DeliveryOutcome> {
  let target: Awaited<ReturnType<typeof checkWebhookUrl>>;
  try {
    target = await checkWebhookUrl(urlText, opts, opts.resolve);
  } catch (err) {
    if (err instanceof WebhookUrlRefused) return { ok: false, code: err.code };
    return { ok: false, code: 'dns_error' };
  }
  const body = webhookBody(event);
  const headers = {
    host: target.url.host,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'sgw-webhook/1',
    'sgw-event-id': event.id,
    'sgw-signature': signatureHeader(secrets, body, Math.floor(Date.now() / 1000)),
  };
  const secure = target.url.protocol === 'https:';
  const requestOptions: https.RequestOptions = {
    host: target.address,
    family: target.family,
    port: target.port,
    path: `${target.url.pathname}${target.url.search}`,
    method: 'POST',
    headers,
    agent: false,
    ...(secure
      ? {
          // An IP literal has no server name to send (RFC 6066 §3); the certificate is checked against it.
          ...(net.isIP(target.hostname) ? {} : { servername: target.hostname }),
          ...(opts.extraCa !== undefined ? { ca: trustedCa(opts.extraCa) } : {}),
          minVersion: 'TLSv1.2' as const,
        }
      : {}),
  };
  return new Promise<DeliveryOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = (secure ? https : http).request(requestOptions, (res) => {
      const status = res.statusCode ?? 0;
      // Only the status matters; the receiver's body is neither read nor kept.
      res.destroy();
      if (status >= 200 && status < 300) settle({ ok: true, status });
      else if (status >= 300 && status < 400) settle({ ok: false, code: 'redirect_refused', status });
      else settle({ ok: false, code: `status_${status}`, status });
    });
    const timer = setTimeout(() => req.destroy(new TryTimeout()), opts.timeoutMs);
    req.on('error', (err) => settle({ ok: false, code: failureOf(err) }));
    req.end(body);
  });
}
