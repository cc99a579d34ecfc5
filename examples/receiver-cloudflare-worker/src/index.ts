import { Webhook, WebhookVerificationError } from '@hookline/verify';

/** The worker's bindings (see wrangler.toml). */
export interface Env {
  /** The endpoint's signing secret (whsec_…): `wrangler secret put WEBHOOK_SECRET`. */
  WEBHOOK_SECRET: string;
  /** A Queue producer: acknowledge at once, do the work in the queue's consumer. */
  WEBHOOK_EVENTS: { send(message: { id: string; event: unknown }): Promise<void> };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== 'POST' || new URL(request.url).pathname !== '/webhooks') {
      return new Response('Not found', { status: 404 });
    }
    const webhook = new Webhook(env.WEBHOOK_SECRET);
    // The exact text that was signed: not request.json(), whose result cannot be
    // re-serialised to the same bytes.
    const body = await request.text();
    let event: unknown;
    try {
      event = webhook.verify(body, request.headers);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      return Response.json({ error: error.code }, { status: 400 });
    }
    await env.WEBHOOK_EVENTS.send({ id: request.headers.get('webhook-id')!, event });
    return new Response(null, { status: 204 });
  },
};
