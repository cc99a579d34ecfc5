/** The events your sender documents. */
export interface WebhookEvent {
  type: string;
  data: Record<string, unknown>;
}

/** Handled events by webhook id. Stands in for your database: keep yours there. */
export const handledEvents = new Map<string, WebhookEvent>();

/**
 * Your app's reaction to a verified event. Deliveries are at-least-once: a retried
 * delivery has the same `webhook-id`, so skip an id you have already handled.
 */
export async function handleEvent(event: WebhookEvent, webhookId: string): Promise<void> {
  if (handledEvents.has(webhookId)) return;
  handledEvents.set(webhookId, event);
}
