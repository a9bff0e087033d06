import https from 'node:https';
import type { ClientCredentials } from '../helpers/https.js';

/**
 * The load balancer the suite stands behind: each call goes to the next gateway in turn, and when that
 * one gives no HTTP answer at all (refused, reset, timed out) to the next, as a balancer retrying on
 * connection failure does. An HTTP answer, a 503 included, is the answer: it is what a client sees.
 * Keep-alive connections per gateway and agency, as an agency's system would hold them.
 */

export interface Answer {
  status: number;
  /** The problem's `code` of a 4xx or 5xx answer. */
  code?: string;
  // biome-ignore lint/suspicious/noExplicitAny: the load inspects each journey's answer field by field
  json: any;
  /** The gateway that answered (its index), or -1 when none did. */
  gateway: number;
  /** How many gateways gave no answer before this one (or before giving up). */
  failovers: number;
  /** When no gateway answered: the last transport error's code. */
  error?: string;
}

export interface FailoverClient {
  call(agency: string, token: string, method: string, path: string, body?: unknown): Promise<Answer>;
  close(): void;
}

const TIMEOUT_MS = 20_000;

interface Raw {
  status: number;
  text: string;
}

function once(url: string, agent: https.Agent, method: string, token: string, body: unknown): Promise<Raw> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export function failoverClient(
  urls: readonly string[],
  creds: (agency: string) => ClientCredentials,
): FailoverClient {
  const agents = new Map<string, https.Agent>();
  const agentFor = (gateway: number, agency: string) => {
    const key = `${gateway}/${agency}`;
    let agent = agents.get(key);
    if (!agent) {
      const c = creds(agency);
      agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: c.ca, cert: c.cert, key: c.key });
      agents.set(key, agent);
    }
    return agent;
  };
  let next = 0;
  return {
    async call(agency, token, method, path, body) {
      const first = next++ % urls.length;
      let lastError = 'none';
      for (let i = 0; i < urls.length; i++) {
        const gateway = (first + i) % urls.length;
        try {
          const raw = await once(`${urls[gateway]}${path}`, agentFor(gateway, agency), method, token, body);
          let json: unknown;
          try {
            json = raw.text ? JSON.parse(raw.text) : undefined;
          } catch {
            json = undefined;
          }
          const code = raw.status >= 400 ? (json as { code?: string } | undefined)?.code : undefined;
          return { status: raw.status, json, gateway, failovers: i, ...(code ? { code } : {}) };
        } catch (err) {
          lastError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        }
      }
      return { status: 0, json: undefined, gateway: -1, failovers: urls.length, error: lastError };
    },
    close() {
      for (const a of agents.values()) a.destroy();
    },
  };
}
