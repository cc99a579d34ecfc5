import { fileURLToPath } from 'node:url';
import { EdgeVM } from '@edge-runtime/vm';
import { generateSecret } from '@hookline/verify';
import { build } from 'esbuild';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import worker, { type Env } from './index';

const secret = generateSecret();
// Signed by the reference implementation, as any Standard Webhooks sender would.
const sender = new StandardWebhook(secret);

function signedHeaders(id: string, body: string): Record<string, string> {
  const now = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': sender.sign(id, now, body),
  };
}

const event = { type: 'invoice.paid', data: { id: 'in_123', amount: 4200, currency: 'eur' } };
const body = JSON.stringify(event);
const url = 'https://receiver.example.workers.dev/webhooks';

/** The bindings, with an in-memory queue standing in for the Queue producer. */
function makeEnv(): { env: Env; queued: { id: string; event: unknown }[] } {
  const queued: { id: string; event: unknown }[] = [];
  return {
    queued,
    env: {
      WEBHOOK_SECRET: secret,
      WEBHOOK_EVENTS: {
        async send(message) {
          queued.push(message);
        },
      },
    },
  };
}

describe('Cloudflare Worker receiver', () => {
  let env: Env;
  let queued: { id: string; event: unknown }[];
  beforeEach(() => {
    ({ env, queued } = makeEnv());
  });

  it('accepts a signed webhook and queues the parsed event', async () => {
    const req = new Request(url, { method: 'POST', headers: signedHeaders('msg_1', body), body });
    const res = await worker.fetch(req, env);
    expect(res.status).toBe(204);
    expect(queued).toEqual([{ id: 'msg_1', event }]);
  });

  it('rejects a webhook whose body was changed after signing, without queueing it', async () => {
    const req = new Request(url, {
      method: 'POST',
      headers: signedHeaders('msg_2', body),
      body: body.replace('4200', '1'),
    });
    const res = await worker.fetch(req, env);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'no_matching_signature' });
    expect(queued).toEqual([]);
  });

  it('answers 404 for anything but POST /webhooks', async () => {
    const res = await worker.fetch(new Request(url), env);
    expect(res.status).toBe(404);
  });
});

describe('the bundled worker in an edge runtime without Node APIs', () => {
  let vm: EdgeVM;
  let bundled: { fetch(request: Request, env: Env): Promise<Response> };
  let inputs: string[];

  beforeAll(async () => {
    // As wrangler bundles it: the workerd/browser export conditions pick the portable
    // build of @hookline/verify (@hookline/source maps that build to its source here).
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      write: false,
      metafile: true,
      format: 'iife',
      globalName: 'worker',
      platform: 'browser',
      conditions: ['@hookline/source', 'workerd', 'worker', 'browser'],
      logLevel: 'silent',
    });
    inputs = Object.keys(result.metafile.inputs);
    vm = new EdgeVM();
    vm.evaluate(result.outputFiles[0]!.text);
    bundled = vm.evaluate('worker.default');
  });

  it('bundles the portable build, with no node: imports', () => {
    expect(inputs.some((p) => p.endsWith('verify/src/index.ts'))).toBe(true);
    expect(inputs.some((p) => /verify\/src\/(node|hmac-node)\.ts$/.test(p))).toBe(false);
    expect(inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(vm.evaluate('[typeof process, typeof Buffer, typeof require]')).toEqual([
      'undefined',
      'undefined',
      'undefined',
    ]);
  });

  it('accepts a signed webhook and rejects a tampered one', async () => {
    const { env: vmEnv, queued: vmQueued } = makeEnv();
    const EdgeRequest = vm.context.Request as typeof Request;
    const headers = signedHeaders('msg_3', body);

    const ok = await bundled.fetch(new EdgeRequest(url, { method: 'POST', headers, body }), vmEnv);
    expect(ok.status).toBe(204);
    const tampered = body.replace('eur', 'usd');
    const bad = await bundled.fetch(
      new EdgeRequest(url, { method: 'POST', headers, body: tampered }),
      vmEnv,
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(JSON.stringify(vmQueued))).toEqual([{ id: 'msg_3', event }]);
  });
});
