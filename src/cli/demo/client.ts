import https from 'node:https';
import type { CliIo } from '../io.js';

export interface Reply {
  status: number;
  body: unknown;
}

export interface Client {
  ca: string;
  cert?: string;
  key?: string;
}

/** A step whose reply was not the one the journey expects. */
export class StepFailure extends Error {}

/** One HTTPS call, as an agency's system makes it: its client certificate, and a practitioner token. */
export function httpsCall(
  url: string,
  client: Client,
  method: string,
  token?: string,
  body?: unknown,
): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        headers,
        ca: client.ca,
        ...(client.cert && client.key ? { cert: client.cert, key: client.key } : {}),
        agent: false,
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no reply within 20 s')));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.join(', '));

function problemText(reply: Reply): string {
  const p = (reply.body ?? {}) as { code?: string; detail?: string };
  return p.code ? `${p.code}${p.detail ? `: ${p.detail}` : ''}` : 'no problem details';
}

/** Numbers and prints the steps of the journeys; remembers which one is running, for the failure line. */
export class StepRunner {
  private count = 0;
  current = 'setting up';

  constructor(private readonly io: CliIo) {}

  get steps(): number {
    return this.count;
  }

  /** Runs one step: its reply must have an expected status, and `describe` must find what it shows. */
  async step(
    title: string,
    expected: number[],
    call: () => Promise<Reply>,
    describe: (reply: Reply) => string,
  ): Promise<Reply> {
    this.count += 1;
    this.current = `step ${this.count} (${title})`;
    const reply = await call();
    if (!expected.includes(reply.status)) {
      throw new StepFailure(`expected ${expected.join(' or ')}, got ${reply.status} (${problemText(reply)})`);
    }
    this.io.stdout(`${String(this.count).padStart(2)}. ${reply.status}  ${title} → ${describe(reply)}`);
    return reply;
  }

  /** A line of its own between the journeys. */
  heading(text: string): void {
    this.io.stdout('');
    this.io.stdout(text);
  }

  note(text: string): void {
    this.io.stdout(`    ${text}`);
  }
}

export function expect(ok: boolean, what: string): void {
  if (!ok) throw new StepFailure(what);
}
