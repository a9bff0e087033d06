import https from 'node:https';

export interface ClientCredentials {
  ca: string;
  cert?: string;
  key?: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  json: any;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Sent as-is (for malformed or non-JSON bodies). */
  rawBody?: string | Buffer;
  agent?: https.Agent;
}

/** One HTTPS request over real TLS with the given client certificate (or none). */
export function httpsRequest(
  url: string,
  creds: ClientCredentials,
  opts: RequestOptions = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let payload: string | Buffer | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers,
        ca: creds.ca,
        ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}),
        ...(opts.agent ? { agent: opts.agent } : { agent: false }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The call, or a status of 0 when no answer came within `ms`: a hang shows as a failed assertion. */
export function answerWithin(ms: number, work: Promise<HttpResult>): Promise<{ status: number }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ status: number }>((resolve) => {
    timer = setTimeout(() => resolve({ status: 0 }), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
