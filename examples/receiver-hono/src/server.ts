import { serve } from '@hono/node-server';
import { createApp } from './app';

const secret = process.env.WEBHOOK_SECRET;
if (!secret) throw new Error('Set WEBHOOK_SECRET to the endpoint secret (whsec_…).');

const app = createApp(secret, (event, id) => {
  console.log('webhook', id, event);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, ({ port }) => {
  console.log(`Listening on http://localhost:${port}/webhooks`);
});
