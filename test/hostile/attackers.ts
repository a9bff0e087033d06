import tls from 'node:tls';
import type { TestGateway } from '../helpers/gateway.js';
import type { ClientCredentials } from '../helpers/https.js';
import { CSC, POLICE } from '../helpers/ids.js';

/**
 * What runs beside the fuzzer for as long as it runs: a few hundred idle TLS connections, clients that
 * dribble a body or headers a byte every few seconds, and a normal practitioner whose requests must keep
 * being served.
 */
const portOf = (gw: TestGateway) => Number(new URL(gw.url).port);

function open(gw: TestGateway, creds: ClientCredentials): tls.TLSSocket {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: portOf(gw),
    servername: 'localhost',
    ca: creds.ca,
    ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}),
  });
  socket.on('error', () => {});
  return socket;
}

/** Holds `size` idle TLS connections open (half with a client certificate), replacing each the gateway closes. */
export class IdleConnections {
  private readonly sockets = new Set<tls.TLSSocket>();
  private running = true;
  opened = 0;
  peak = 0;

  constructor(
    private readonly gw: TestGateway,
    private readonly size: number,
  ) {}

  async start(): Promise<void> {
    const creds = this.gw.credentials(CSC);
    const anonymous = { ca: creds.ca };
    for (let i = 0; i < this.size; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, this.size - i) }, (_, j) =>
          this.add((i + j) % 2 === 0 ? creds : anonymous),
        ),
      );
    }
  }

  private add(creds: ClientCredentials): Promise<void> {
    return new Promise((resolve) => {
      const socket = open(this.gw, creds);
      this.sockets.add(socket);
      socket.once('secureConnect', () => {
        this.opened++;
        this.peak = Math.max(this.peak, this.open);
        resolve();
      });
      socket.once('close', () => {
        this.sockets.delete(socket);
        resolve();
        if (this.running) setTimeout(() => void this.add(creds), 50);
      });
    });
  }

  get open(): number {
    let n = 0;
    for (const s of this.sockets) if (!s.connecting && !s.destroyed) n++;
    return n;
  }

  stop(): void {
    this.running = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

export interface SlowOutcome {
  kind: string;
  /** What the gateway answered before closing (the status line's code), 0 for nothing. */
  status: number;
  problem: boolean;
  closedAfterMs: number;
}

/**
 * A client that sends a request's head and then one byte every `everyMs`: of a body (authenticated or
 * not) or of the headers themselves. The gateway must answer (408 or 401, as problem details) and close.
 */
function dribble(gw: TestGateway, kind: string, everyMs: number, boundMs: number): Promise<SlowOutcome> {
  const creds = gw.credentials(CSC);
  const token = gw.token(CSC, 'social_worker', 'hostile-slow');
  const head =
    kind === 'headers'
      ? 'GET /v1/agencies HTTP/1.1\r\nHost: localhost\r\n'
      : [
          'POST /v1/requests HTTP/1.1',
          'Host: localhost',
          'Content-Type: application/json',
          'Content-Length: 5000',
          ...(kind === 'authenticated body' ? [`Authorization: Bearer ${token}`] : []),
          '',
          '',
        ].join('\r\n');
  return new Promise((resolve) => {
    const started = Date.now();
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    const socket = open(gw, kind === 'anonymous body' ? { ca: creds.ca } : creds);
    const giveUp = setTimeout(() => socket.destroy(), boundMs);
    socket.once('secureConnect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(kind === 'headers' ? 'X' : '{');
      }, everyMs);
    });
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      resolve({
        kind,
        status,
        problem: /content-type: application\/problem\+json/i.test(received),
        closedAfterMs: Date.now() - started,
      });
    });
  });
}

/** Keeps `lanes` dribbling clients going (one of each kind in turn) until stopped. */
export class SlowClients {
  private running = true;
  readonly outcomes: SlowOutcome[] = [];
  private readonly lanes: Promise<void>[] = [];

  constructor(
    private readonly gw: TestGateway,
    private readonly opts: { lanes: number; everyMs: number; boundMs: number },
  ) {}

  start(): void {
    const kinds = ['authenticated body', 'anonymous body', 'certificate, no token, body', 'headers'];
    for (let lane = 0; lane < this.opts.lanes; lane++) {
      this.lanes.push(
        (async () => {
          for (let i = lane; this.running; i++) {
            const kind = kinds[i % kinds.length] ?? 'headers';
            this.outcomes.push(await dribble(this.gw, kind, this.opts.everyMs, this.opts.boundMs));
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }
}

/**
 * Practitioners going about their work, one call every `everyMs` on kept-alive connections, in turn: a
 * social worker reading the directory, and a police officer's flag search (a ledgered journey).
 */
export class NormalClient {
  private running = true;
  private loop: Promise<void> | undefined;
  readonly statuses: number[] = [];
  /** Why a call got no answer at all. */
  readonly errors: string[] = [];
  readonly latenciesMs: number[] = [];

  constructor(
    private readonly gw: TestGateway,
    private readonly everyMs: number,
  ) {}

  start(): void {
    const { gw } = this;
    const calls = [
      {
        path: '/v1/agencies',
        creds: gw.credentials(CSC),
        agent: gw.keepAliveAgent(CSC),
        headers: { authorization: `Bearer ${gw.token(CSC, 'social_worker', 'normal-practitioner')}` },
      },
      {
        path: '/v1/flags/search',
        creds: gw.credentials(POLICE),
        agent: gw.keepAliveAgent(POLICE),
        headers: { authorization: `Bearer ${gw.token(POLICE, 'police_officer', 'normal-practitioner')}` },
        body: { subject: { type: 'child', nhsNumber: '9434765919' }, purpose: 's47_enquiry' },
      },
    ];
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const call = calls[i % calls.length] ?? calls[0];
        if (!call) return;
        const started = performance.now();
        const r = await gw
          .request(call.path, call.creds, {
            headers: call.headers,
            agent: call.agent,
            ...(call.body ? { body: call.body } : {}),
          })
          .catch((err: Error) => {
            this.errors.push(err.message);
            return { status: 0 };
          });
        this.latenciesMs.push(performance.now() - started);
        this.statuses.push(r.status);
        await new Promise((resolve) => setTimeout(resolve, this.everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
