import type { TestGateway } from '../helpers/gateway.js';
import type { Callers } from './callers.js';
import type { Case } from './cases.js';
import { type BodyDraft, serialiseBody } from './mutate-body.js';
import type { Planter } from './plant.js';
import { WireConnection, type WireOutcome } from './wire.js';

/** Long enough for the gateway's own timeouts (408) to answer first. */
const RESPONSE_TIMEOUT_MS = 25_000;

export interface Sent {
  outcome: WireOutcome;
  /** The personal data planted in this request, as sent. */
  planted: string[];
  /** The request's first bytes, for a failure's description (planted values included). */
  head: string;
}

const isDraft = (b: Case['body']): b is BodyDraft => b !== undefined && 'value' in b;

/**
 * Writes a case as bytes and sends it over real TLS with its caller's certificate: plants personal
 * data, adds what the case did not set (Content-Length, Authorization), and keeps one idle
 * connection per certificate for the next case whose framing was left alone.
 */
export class Sender {
  private readonly idle = new Map<string, WireConnection[]>();
  private readonly port: number;

  constructor(
    gw: TestGateway,
    private readonly callers: Callers,
    private readonly planter: Planter,
  ) {
    this.port = Number(new URL(gw.url).port);
  }

  build(c: Case): { bytes: Buffer; planted: string[] } {
    const planted: string[] = [];
    let body: Buffer | undefined;
    if (c.body) {
      const raw = isDraft(c.body) ? serialiseBody(c.body) : c.body.raw;
      const out = this.planter.materialiseBytes(raw);
      body = out.bytes;
      for (const v of out.planted) planted.push(v);
    }
    const headers = [...c.headers];
    const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
    if (body !== undefined && !has('content-length') && !has('transfer-encoding')) {
      headers.push(['Content-Length', String(body.length)]);
    }
    const auth = this.callers.authorization(c.caller, this.planter);
    for (const v of auth.planted) planted.push(v);
    if (auth.value !== undefined) headers.push(['Authorization', auth.value]);
    const line = `${c.method} ${c.target}${c.version ? ` ${c.version}` : ''}`;
    const head = `${line}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    const planedHead = this.planter.materialiseBytes(Buffer.from(head, 'utf8'));
    for (const v of planedHead.planted) planted.push(v);
    return { bytes: Buffer.concat([planedHead.bytes, body ?? Buffer.alloc(0)]), planted };
  }

  private connection(agency: string | undefined): WireConnection {
    const free = this.idle.get(agency ?? '');
    return (
      free?.pop() ??
      new WireConnection({
        host: '127.0.0.1',
        port: this.port,
        creds: this.callers.credentials(agency),
        timeoutMs: RESPONSE_TIMEOUT_MS,
      })
    );
  }

  async send(c: Case): Promise<Sent> {
    const { bytes, planted } = this.build(c);
    const agency = this.callers.certificateOf(c.caller);
    const conn = this.connection(agency);
    const outcome = await conn.send(bytes, c.method === 'HEAD');
    if (c.reusable && outcome.ok && !outcome.response.closed) {
      const key = agency ?? '';
      this.idle.set(key, [...(this.idle.get(key) ?? []), conn]);
    } else {
      conn.close();
    }
    return { outcome, planted, head: bytes.subarray(0, 300).toString('latin1') };
  }

  close(): void {
    for (const list of this.idle.values()) for (const conn of list) conn.close();
    this.idle.clear();
  }
}
