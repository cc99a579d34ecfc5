import { Webhook, WebhookVerificationError } from '@hookline/verify';
import express from 'express';

/** What your app does with a verified event (enqueue it, update the database…). */
export type EventHandler = (event: unknown, webhookId: string) => void | Promise<void>;

/** An Express app that receives Standard Webhooks on `POST /webhooks`. */
export function createApp(secret: string, onEvent: EventHandler): express.Express {
  const webhook = new Webhook(secret);
  const app = express();

  // The signature covers the exact bytes that were sent, so this route takes the body
  // raw (a Buffer). Register it before any app-wide express.json(), which would parse it.
  app.post('/webhooks', express.raw({ type: 'application/json' }), async (req, res) => {
    let event: unknown;
    try {
      event = webhook.verify(req.body, req.headers);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      res.status(400).json({ error: error.code });
      return;
    }
    await onEvent(event, req.header('webhook-id')!);
    res.status(204).end();
  });

  // The rest of your API can parse JSON as usual.
  app.use(express.json());
  return app;
}
