import { createApp } from './app';

const secret = process.env.WEBHOOK_SECRET;
if (!secret) throw new Error('Set WEBHOOK_SECRET to the endpoint secret (whsec_…).');

const port = Number(process.env.PORT ?? 3000);
createApp(secret, (event, id) => {
  console.log('webhook', id, event);
}).listen(port, () => {
  console.log(`Listening on http://localhost:${port}/webhooks`);
});
