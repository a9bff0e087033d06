import { Pool } from 'undici';
import { mintToken } from '../../src/registry/index.js';

/** A practitioner as the journeys use one: their agency's client certificate and their token. */
export interface Practitioner {
  agency: string;
  role: string;
  sub: string;
}

export interface Reply {
  status: number;
  /** The parsed body, when the caller asked for it. */
  json?: unknown;
}

/** Anything the journeys can send through: one gateway, or several in turn. */
export interface Caller {
  call(who: Practitioner, method: string, path: string, body?: unknown, readBody?: boolean): Promise<Reply>;
}

export interface Tls {
  ca: string;
  /** Client certificate and key per agency id. */
  clients: ReadonlyMap<string, { cert: string; key: string }>;
}

/**
 * Keep-alive HTTPS to one gateway, a pool of connections per agency (each agency's system holds its
 * own, with its own client certificate), practitioner tokens minted once and reused as agencies' systems
 * reuse them.
 */
export class GatewayClient implements Caller {
  private readonly pools = new Map<string, Pool>();
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly origin: string,
    private readonly tls: Tls,
    private readonly connections: number,
    private readonly certsDir: string,
    private readonly audience: string,
  ) {}

  private pool(agency: string): Pool {
    let pool = this.pools.get(agency);
    if (!pool) {
      const client = this.tls.clients.get(agency);
      if (!client) throw new Error(`no client certificate for ${agency}`);
      pool = new Pool(this.origin, {
        connections: this.connections,
        pipelining: 1,
        connect: { ca: this.tls.ca, cert: client.cert, key: client.key, rejectUnauthorized: true },
      });
      this.pools.set(agency, pool);
    }
    return pool;
  }

  private token(who: Practitioner): string {
    const key = `${who.agency}/${who.role}/${who.sub}`;
    let token = this.tokens.get(key);
    if (!token) {
      token = mintToken(this.certsDir, {
        agency: who.agency,
        sub: who.sub,
        role: who.role,
        name: `Bench ${who.role}`,
        audience: this.audience,
        ttlSeconds: 3600,
      });
      this.tokens.set(key, token);
    }
    return token;
  }

  async call(
    who: Practitioner,
    method: string,
    path: string,
    body?: unknown,
    readBody = false,
  ): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token(who)}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.pool(who.agency).request({
      path,
      method: method as 'GET' | 'POST' | 'PUT',
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!readBody) {
      await res.body.dump();
      return { status: res.statusCode };
    }
    return { status: res.statusCode, json: await res.body.json() };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
    this.pools.clear();
  }
}

/** A round-robin client over several gateways, as the simplest load balancer would spread the calls. */
export class RoundRobin implements Caller {
  private next = 0;

  constructor(private readonly targets: readonly Caller[]) {}

  call(who: Practitioner, method: string, path: string, body?: unknown, readBody?: boolean): Promise<Reply> {
    const target = this.targets[this.next++ % this.targets.length] as Caller;
    return target.call(who, method, path, body, readBody);
  }
}
