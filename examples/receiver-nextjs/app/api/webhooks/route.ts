import { Webhook, WebhookVerificationError } from '@hookline/verify';
import { handleEvent, type WebhookEvent } from '../../../lib/handle-event';

// Created on the first request, so `next build` does not need the secret.
let webhook: Webhook | undefined;

export async function POST(request: Request): Promise<Response> {
  webhook ??= new Webhook(process.env.WEBHOOK_SECRET ?? '');
  // The exact text that was signed: not request.json(), whose result cannot be
  // re-serialised to the same bytes.
  const body = await request.text();
  let event: WebhookEvent;
  try {
    event = webhook.verify(body, request.headers) as WebhookEvent;
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return Response.json({ error: error.code }, { status: 400 });
  }
  await handleEvent(event, request.headers.get('webhook-id')!);
  return new Response(null, { status: 204 });
}
