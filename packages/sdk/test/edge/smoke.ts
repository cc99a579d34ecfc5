// Runs inside the edge sandbox (bundled with the built SDK): a message sent through a stand-in
// fetch, and an error answer mapped, using only web-standard globals.
import { Hookline, HooklineApiError } from '../../dist/index.js';

export interface EdgeSmokeResult {
  runtime: Record<string, string>;
  accepted: unknown;
  sentBody: unknown;
  idempotencyKey: string | null;
  errorName: string;
  errorIsApiError: boolean;
  errorCode: string;
}

export async function runSmoke(): Promise<EdgeSmokeResult> {
  const sent: { url: string; init: RequestInit }[] = [];
  const hookline = new Hookline('hl_sk_edge_runtime_key', {
    baseUrl: 'https://gateway.example',
    retries: 0,
    fetch: async (url, init) => {
      sent.push({ url, init });
      if (url.endsWith('/v1/endpoints/ep_missing')) {
        return new Response(
          JSON.stringify({ error: { code: 'not_found', message: 'No endpoint with that id.' } }),
          { status: 404, headers: { 'content-type': 'application/json' } },
        );
      }
      return new Response(
        JSON.stringify({
          id: 'msg_1',
          tenant_id: 'acme',
          event_type: 'invoice.paid',
          created_at: '2025-01-31T12:00:00.000Z',
          delivery_count: 1,
        }),
        { status: 202, headers: { 'content-type': 'application/json' } },
      );
    },
  });
  const accepted = await hookline.messages.create({
    tenantId: 'acme',
    eventType: 'invoice.paid',
    payload: { invoice_id: 'in_1' },
  });
  const error = await hookline.endpoints.get('ep_missing').catch((e: unknown) => e as Error);
  const headers = sent[0]!.init.headers as Record<string, string>;
  return {
    runtime: {
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      buffer: typeof (globalThis as { Buffer?: unknown }).Buffer,
      edgeRuntime: typeof (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime,
    },
    accepted,
    sentBody: JSON.parse(String(sent[0]!.init.body)),
    idempotencyKey: headers['idempotency-key'] ?? null,
    errorName: (error as Error).name,
    errorIsApiError: error instanceof HooklineApiError,
    errorCode: (error as HooklineApiError).code,
  };
}
