import type { Practitioner } from './cast.js';
import type { Reply, StepRunner } from './client.js';

/** What each journey of the demo gets: the step runner and calls as a practitioner, over HTTPS. */
export interface Demo {
  run: StepRunner;
  /** A call with the practitioner's agency certificate and a token for them. */
  as(who: Practitioner, method: string, urlPath: string, body?: unknown): Promise<Reply>;
  /** A call with no client certificate and no token. */
  anonymous(method: string, urlPath: string): Promise<Reply>;
  /** `label@agency`, as the lines name a practitioner. */
  who(p: Practitioner): string;
  gatewayId: string;
  /** Waits until the ledger has sequenced every entry written so far. */
  flushLedger(): Promise<{ treeSize: number }>;
}

export interface InboxItem {
  id: string;
  kind: string;
  ref: string;
  type: string;
  dueBy?: string;
}

/** The items of an inbox reply. */
export function inboxOf(reply: Reply): InboxItem[] {
  return (reply.body as { items?: InboxItem[] }).items ?? [];
}
