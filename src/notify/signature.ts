import { createHmac } from 'node:crypto';

/**
 * `sgw-signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, "<t>.<body>")>` (contract section 12),
 * with one `v1=` per secret in force: during a rotation the new secret signs first and the previous one
 * second, so that a receiver holding either accepts the delivery.
 */
export function signatureHeader(secrets: readonly string[], body: string, unixSeconds: number): string {
  if (secrets.length === 0) throw new Error('a webhook signature needs a secret');
  const signed = `${unixSeconds}.${body}`;
  const v1 = secrets.map((s) => `v1=${createHmac('sha256', s).update(signed).digest('hex')}`);
  return [`t=${unixSeconds}`, ...v1].join(',');
}
