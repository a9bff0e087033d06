/** One event as the outbox holds it and the queue carries it: references only, never personal data. */
export interface NotifyEvent {
  /** The event's id (outbox.event_id): the job id in the queue and `sgw-event-id` on the wire. */
  id: string;
  /** The recipient agency. */
  agency: string;
  type: string;
  /** RFC 3339. */
  occurredAt: string;
  data: Record<string, unknown>;
}

/** The body a receiver gets: exactly these four fields (contract section 12). */
export function webhookBody(event: NotifyEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, occurredAt: event.occurredAt, data: event.data });
}
