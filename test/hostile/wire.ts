import tls from 'node:tls';
import type { ClientCredentials } from '../helpers/https.js';

/**
 * A raw HTTP/1.1 client over real TLS: the request goes out byte for byte as the fuzzer built it
 * (duplicate, oversized or invalid headers, a missing Host, a wrong Content-Length), which node:https
 * refuses to send. One connection per client certificate is kept alive while the gateway allows it.
 */
export interface WireResponse {
  status: number;
  /** Header names lower-cased; a repeated header keeps every value, joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The response as received (status line, headers and body): what the echo checks read. */
  raw: string;
  /** The gateway closed the connection after this response. */
  closed: boolean;
}

/** What came back: a response, or the connection closed (or timed out) without one. */
export type WireOutcome = { ok: true; response: WireResponse } | { ok: false; reason: string };

const HEAD_END = '\r\n\r\n';

interface Parsed {
  response: WireResponse;
  consumed: number;
}

function parseHead(head: string): { status: number; headers: Record<string, string> } | undefined {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(m[1]), headers };
}

/** Decodes a chunked body; undefined until all of it has arrived. */
function dechunk(buf: Buffer): { body: Buffer; consumed: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return { body: Buffer.concat(parts), consumed: buf.length };
    at = lineEnd + 2;
    if (size === 0) {
      const end = buf.indexOf(HEAD_END, at - 2);
      return end === -1 ? undefined : { body: Buffer.concat(parts), consumed: end + 4 };
    }
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * One complete response at the start of `buf`, or undefined while more is to come. 1xx interim
 * responses are skipped; a body without a length runs to the connection's close (`ended`).
 */
function parseResponse(buf: Buffer, isHead: boolean, ended: boolean): Parsed | undefined {
  let start = 0;
  for (;;) {
    const headEnd = buf.indexOf(HEAD_END, start);
    if (headEnd === -1) return undefined;
    const headText = buf.subarray(start, headEnd).toString('latin1');
    const head = parseHead(headText);
    if (!head) {
      return ended
        ? {
            response: { status: 0, headers: {}, body: '', raw: buf.toString('latin1'), closed: true },
            consumed: buf.length,
          }
        : undefined;
    }
    const bodyStart = headEnd + 4;
    if (head.status >= 100 && head.status < 200) {
      start = bodyStart;
      continue;
    }
    let body: Buffer;
    let consumed: number;
    const length = head.headers['content-length'];
    if (isHead || head.status === 204 || head.status === 304) {
      body = Buffer.alloc(0);
      consumed = bodyStart;
    } else if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) {
      const d = dechunk(buf.subarray(bodyStart));
      if (!d) return undefined;
      body = d.body;
      consumed = bodyStart + d.consumed;
    } else if (length !== undefined) {
      const n = Number(length);
      if (buf.length < bodyStart + n) return undefined;
      body = buf.subarray(bodyStart, bodyStart + n);
      consumed = bodyStart + n;
    } else {
      if (!ended) return undefined;
      body = buf.subarray(bodyStart);
      consumed = buf.length;
    }
    const closed = /close/i.test(head.headers.connection ?? '');
    return {
      response: {
        status: head.status,
        headers: head.headers,
        body: body.toString('utf8'),
        raw: `${headText}\r\n\r\n${body.toString('utf8')}`,
        closed,
      },
      consumed,
    };
  }
}

export interface WireOptions {
  host: string;
  port: number;
  creds: ClientCredentials;
  /** Give up on a response after this long. */
  timeoutMs: number;
}

/** A keep-alive TLS connection that sends one raw request at a time and reads one response. */
export class WireConnection {
  private socket: tls.TLSSocket | undefined;

  constructor(private readonly opts: WireOptions) {}

  private connect(): Promise<tls.TLSSocket> {
    const { host, port, creds } = this.opts;
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host,
        port,
        servername: 'localhost',
        ca: creds.ca,
        ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}),
      });
      // Errors after the handshake end the exchange through 'close'; none may go unhandled.
      socket.on('error', () => {});
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  /** Sends `request` (all of it at once) and reads the response; the connection is reused when it can be. */
  async send(request: Buffer, isHead: boolean): Promise<WireOutcome> {
    const reused = this.socket !== undefined && !this.socket.destroyed && this.socket.writable;
    const outcome = await this.sendOnce(request, isHead);
    // A kept-alive connection the gateway closed as this request went out (its keep-alive timeout) is
    // not an answer to this request: send it again on a new connection.
    if (reused && !outcome.ok && outcome.reason === 'closed without a response') {
      return this.sendOnce(request, isHead);
    }
    return outcome;
  }

  private async sendOnce(request: Buffer, isHead: boolean): Promise<WireOutcome> {
    if (!this.socket || this.socket.destroyed || !this.socket.writable) {
      try {
        this.socket = await this.connect();
      } catch (err) {
        return { ok: false, reason: `connect: ${(err as Error).message}` };
      }
    }
    const socket = this.socket;
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0);
      let ended = false;
      const finish = (outcome: WireOutcome, keep: boolean) => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onClose);
        if (!keep) {
          socket.destroy();
          this.socket = undefined;
        }
        resolve(outcome);
      };
      const attempt = () => {
        const parsed = parseResponse(buf, isHead, ended);
        if (parsed) {
          const keep = !ended && !parsed.response.closed && parsed.consumed === buf.length;
          finish(
            { ok: true, response: { ...parsed.response, closed: parsed.response.closed || ended } },
            keep,
          );
        } else if (ended) {
          finish(
            { ok: false, reason: buf.length ? 'truncated response' : 'closed without a response' },
            false,
          );
        }
      };
      const onData = (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        attempt();
      };
      const onClose = () => {
        ended = true;
        attempt();
      };
      const timer = setTimeout(
        () => finish({ ok: false, reason: `no response within ${this.opts.timeoutMs} ms` }, false),
        this.opts.timeoutMs,
      );
      socket.on('data', onData);
      socket.on('close', onClose);
      socket.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
