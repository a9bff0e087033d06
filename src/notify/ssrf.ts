import { lookup } from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The guard against server-side request forgery (docs/notifications.md): a webhook URL registered by an
 * operator must not turn the gateway into a client of the networks behind it. Checked at registration
 * and again at every delivery, on the address the delivery then connects to, so that a name which
 * resolves elsewhere later (DNS rebinding) is caught.
 */

export interface UrlPolicy {
  /** SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK: loopback receivers (http or https) for development and tests. */
  allowHttpLoopback: boolean;
}

/** Why a URL is refused: a code that goes into logs and dead letters, and a sentence for the operator. */
export class WebhookUrlRefused extends Error {
  constructor(
    readonly code: 'url_invalid' | 'scheme_refused' | 'dns_error' | 'address_refused',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookUrlRefused';
  }
}

/** A URL that passed the guard, with the one address a delivery connects to. */
export interface CheckedTarget {
  url: URL;
  /** The host name as written (for SNI, the Host header and the certificate check); brackets removed. */
  hostname: string;
  address: string;
  family: 4 | 6;
  port: number;
}

type AddressClass = 'public' | 'loopback' | 'other';

// 2000::/3 is the only IPv6 space allocated for global unicast (RFC 4291 §2.4, IANA); ipaddr.js names
// its special ranges, and what it calls unicast outside 2000::/3 (e.g. the deprecated fec0::/10
// site-local) is not public either.
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** Whether an address is one the gateway may POST to; IPv4-mapped IPv6 is judged as the IPv4 it carries. */
export function classifyAddress(address: string): AddressClass {
  if (!ipaddr.isValid(address)) return 'other';
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range === 'loopback') return 'loopback';
  if (range !== 'unicast') return 'other';
  if (ip.kind() === 'ipv6' && !ip.match(GLOBAL_UNICAST_V6)) return 'other';
  return 'public';
}

/** The checks that need no DNS: a parseable http(s) URL without credentials. */
function parseWebhookUrl(text: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlRefused('url_invalid', 'webhook URL is not a valid URL');
  }
  if (url.username || url.password) {
    throw new WebhookUrlRefused('url_invalid', 'webhook URL must not carry credentials');
  }
  if (url.protocol === 'http:' && !policy.allowHttpLoopback) {
    throw new WebhookUrlRefused(
      'scheme_refused',
      'webhook URL must be https (http only to a loopback address with SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK=true)',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookUrlRefused('scheme_refused', 'webhook URL must be https');
  }
  return url;
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: false });

/**
 * Resolves the URL's host once and checks every address it gives: any refused address refuses the URL
 * (a name that mixes a public and a private address is not to be trusted), and the first address is
 * the one to connect to.
 */
export async function checkWebhookUrl(
  text: string,
  policy: UrlPolicy,
  resolve: Resolver = systemResolver,
): Promise<CheckedTarget> {
  const url = parseWebhookUrl(text, policy);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: Array<{ address: string; family: number }>;
  if (net.isIP(hostname)) {
    addresses = [{ address: hostname, family: net.isIP(hostname) }];
  } else {
    try {
      addresses = await resolve(hostname);
    } catch {
      throw new WebhookUrlRefused('dns_error', 'webhook host name does not resolve');
    }
  }
  const first = addresses[0];
  if (!first) throw new WebhookUrlRefused('dns_error', 'webhook host name does not resolve');
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    const allowed =
      url.protocol === 'http:'
        ? kind === 'loopback'
        : kind === 'public' || (kind === 'loopback' && policy.allowHttpLoopback);
    if (!allowed) {
      throw new WebhookUrlRefused(
        'address_refused',
        kind === 'loopback'
          ? 'webhook URL points at this machine (loopback): allowed only with SGW_WEBHOOK_ALLOW_HTTP_LOOPBACK=true'
          : 'webhook URL points at a private, link-local, reserved or otherwise non-public address',
      );
    }
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { url, hostname, address: first.address, family: first.family === 6 ? 6 : 4, port };
}
