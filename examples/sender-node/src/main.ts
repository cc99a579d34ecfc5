// What a SaaS backend does with Hookline, end to end: describe an event type, give a customer
// (tenant) an endpoint, send it an event, watch the delivery, and mint a portal link so the
// customer can manage their webhooks. Every step is safe to run again.
import { Hookline, HooklineApiError } from '@hookline/sdk';

/** Where the gateway is, and who the example sends to. */
export interface SenderConfig {
  /** The gateway, e.g. http://127.0.0.1:8787 (`HOOKLINE_URL`). */
  baseUrl: string;
  /** An operator API key, hl_sk_… (`HOOKLINE_API_KEY`). */
  apiKey: string;
  /** The customer's webhook URL (`WEBHOOK_URL`), e.g. the receiver examples' /webhooks. */
  webhookUrl: string;
  /** The whsec_ secret the customer verifies with (`WEBHOOK_SECRET`); absent: one is generated. */
  webhookSecret?: string;
  /** The customer's id in your system (`TENANT_ID`). Default `acme`. */
  tenantId?: string;
  /** How long to wait for the delivery. Default 15 s. */
  deliveryTimeoutMs?: number;
  /** Where progress lines go. Default `console.log`. Never given a secret or a token. */
  log?: (line: string) => void;
}

/** What the run did. */
export interface SenderSummary {
  endpointId: string;
  /** false when an earlier run had made the endpoint already. */
  endpointCreated: boolean;
  /** The endpoint's signing secret: only when this run made it (the one time it is shown). */
  secret?: string;
  messageId: string;
  deliveryStatus: string;
  attempts: number;
  portalUrl: string;
  portalExpiresAt: string;
}

/** Reads the example's settings from the environment; throws a message naming what is missing. */
export function configFromEnv(env: Record<string, string | undefined>): SenderConfig {
  const missing = ['HOOKLINE_URL', 'HOOKLINE_API_KEY', 'WEBHOOK_URL'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `Set ${missing.join(', ')}: the gateway's URL, an operator API key (hl_sk_…) and the URL that receives the webhooks.`,
    );
  }
  return {
    baseUrl: env.HOOKLINE_URL!,
    apiKey: env.HOOKLINE_API_KEY!,
    webhookUrl: env.WEBHOOK_URL!,
    ...(env.WEBHOOK_SECRET ? { webhookSecret: env.WEBHOOK_SECRET } : {}),
    ...(env.TENANT_ID ? { tenantId: env.TENANT_ID } : {}),
  };
}

/** Runs the example against the gateway at `config.baseUrl`. */
export async function main(config: SenderConfig): Promise<SenderSummary> {
  const log = config.log ?? console.log;
  const tenantId = config.tenantId ?? 'acme';
  const hookline = new Hookline(config.apiKey, { baseUrl: config.baseUrl });

  // 1. The event type catalog (optional; it documents payloads in the portal).
  try {
    await hookline.eventTypes.create({
      name: 'invoice.paid',
      description: 'An invoice was paid in full.',
      example: { invoice_id: 'in_1001', amount_due: 4200, currency: 'eur' },
    });
    log('event type invoice.paid added to the catalog');
  } catch (error) {
    if (!(error instanceof HooklineApiError && error.status === 409)) throw error;
    log('event type invoice.paid is in the catalog already');
  }

  // 2. The customer's endpoint. importEndpoints is idempotent: a second run finds it.
  const [imported] = await hookline.importEndpoints([
    {
      tenantId,
      url: config.webhookUrl,
      ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
    },
  ]);
  if (!imported || imported.status === 'failed') {
    throw imported?.error ?? new Error('importEndpoints returned nothing');
  }
  const endpoint = imported.endpoint;
  log(
    imported.status === 'created'
      ? `endpoint ${endpoint.id} created for ${tenantId} → ${endpoint.url} (its secret is returned once: store it)`
      : `endpoint ${endpoint.id} of ${tenantId} exists already`,
  );

  // 3. The event. The idempotency key names the business event, so running this again (or a
  // retry after a lost answer) never sends it twice.
  const message = await hookline.messages.create(
    {
      tenantId,
      eventType: 'invoice.paid',
      payload: { invoice_id: 'in_1001', amount_due: 4200, currency: 'eur' },
    },
    { idempotencyKey: `invoice-in_1001-paid-${tenantId}` },
  );
  log(`message ${message.id} accepted: ${message.deliveryCount} delivery(ies)`);

  // 4. The delivery log: wait until the endpoint has answered (or retries are scheduled).
  const deadline = Date.now() + (config.deliveryTimeoutMs ?? 15_000);
  let delivery = (await hookline.deliveries.list({ messageId: message.id }).page()).data[0];
  while (delivery && delivery.status === 'pending' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    delivery = await hookline.deliveries.get(delivery.id);
  }
  if (!delivery) throw new Error(`message ${message.id} has no delivery: no endpoint matched`);
  const detail = await hookline.deliveries.get(delivery.id);
  for (const attempt of detail.attempts) {
    log(
      `  attempt ${attempt.attemptNumber}: ${attempt.outcome}${attempt.httpStatus ? ` (HTTP ${attempt.httpStatus})` : ''} in ${attempt.latencyMs ?? '-'} ms`,
    );
  }
  log(`delivery ${detail.id}: ${detail.status}`);

  // 5. A portal link: send the customer there to manage endpoints and see their log. The URL
  // carries a bearer token, so it is handed over, not logged.
  const link = await hookline.portal.createLink({ tenantId, expiresInSeconds: 900 });
  log(`portal link minted for ${tenantId}, valid until ${link.expiresAt}`);

  return {
    endpointId: endpoint.id,
    endpointCreated: imported.status === 'created',
    ...(imported.status === 'created' ? { secret: imported.endpoint.secret } : {}),
    messageId: message.id,
    deliveryStatus: detail.status,
    attempts: detail.attempts.length,
    portalUrl: link.url,
    portalExpiresAt: link.expiresAt,
  };
}
