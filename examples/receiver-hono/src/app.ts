import { Webhook, WebhookVerificationError } from '@hookline/verify';
import { Hono } from 'hono';

/** What your app does with a verified event (enqueue it, update the database…). */
export type EventHandler = (event: unknown, webhookId: string) => void | Promise<void>;

/** A Hono app that receives Standard Webhooks on `POST /webhooks`. */
export function createApp(secret: string, onEvent: EventHandler): Hono {
  const webhook = new Webhook(secret);
  const app = new Hono();

  app.post('/webhooks', async (c) => {
    // The exact text that was signed: not c.req.json(), whose result cannot be re-serialised
    // to the same bytes.
    const body = await c.req.text();
    let event: unknown;
    try {
      event = webhook.verify(body, c.req.raw.headers);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      return c.json({ error: error.code }, 400);
    }
    await onEvent(event, c.req.header('webhook-id')!);
    return c.body(null, 204);
  });

  return app;
}
