// The built package as users get it: ESM and CJS entry points, declarations that stand alone,
// no Node-only code, and a portable bundle that runs in an edge sandbox.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeVM } from '@edge-runtime/vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import type * as Sdk from '../src/index';
import { distPath, importDist, packageDir, requireDist } from './dist-helpers';
import type { EdgeSmokeResult } from './edge/smoke';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function smoke(sdk: typeof Sdk) {
  const sent: { url: string; init: RequestInit }[] = [];
  const hookline = new sdk.Hookline('hl_sk_dist_test_key', {
    baseUrl: 'https://gateway.example',
    fetch: async (url, init) => {
      sent.push({ url, init });
      return new Response(
        JSON.stringify({
          id: 'msg_1',
          tenant_id: 'acme',
          event_type: 'invoice.paid',
          created_at: '2025-01-31T12:00:00.000Z',
          delivery_count: 2,
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
  expect(accepted).toEqual({
    id: 'msg_1',
    tenantId: 'acme',
    eventType: 'invoice.paid',
    createdAt: '2025-01-31T12:00:00.000Z',
    deliveryCount: 2,
  });
  expect(sent[0]!.url).toBe('https://gateway.example/v1/messages');
  expect(JSON.parse(String(sent[0]!.init.body))).toEqual({
    tenant_id: 'acme',
    event_type: 'invoice.paid',
    payload: { invoice_id: 'in_1' },
  });
  expect((sent[0]!.init.headers as Record<string, string>)['idempotency-key']).toMatch(UUID);
  expect(new sdk.HooklineTimeoutError('x', 1)).toBeInstanceOf(sdk.HooklineConnectionError);
  expect(sdk.SDK_VERSION).toBe(
    JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version,
  );
}

describe('dist/', () => {
  it('dist/index.js (ESM) sends a message', async () => {
    await smoke(await importDist<typeof Sdk>('index.js'));
  });

  it('dist/index.cjs (CJS, through Node’s require) sends a message', async () => {
    await smoke(requireDist<typeof Sdk>('index.cjs'));
  });

  it('ESM and CJS export the same runtime names, and only these', async () => {
    const expected = [
      'Deliveries',
      'Endpoints',
      'EventTypes',
      'Hookline',
      'HooklineApiError',
      'HooklineConnectionError',
      'HooklineError',
      'HooklineTimeoutError',
      'IMPORT_MARKER',
      'Messages',
      'Operations',
      'Paginator',
      'Portal',
      'SDK_VERSION',
      'Tenants',
    ];
    expect(Object.keys(await importDist<object>('index.js')).sort()).toEqual(expected);
    expect(Object.keys(requireDist<object>('index.cjs')).sort()).toEqual(expected);
  });

  it('declares its types without importing zod, @hookline/api or anything else', () => {
    for (const file of ['index.d.ts', 'index.d.cts']) {
      const text = readFileSync(distPath(file), 'utf8');
      expect(text).toContain('interface EndpointWithSecret');
      expect(text).not.toMatch(/@hookline\/api|\bzod\b/);
      expect(text).not.toMatch(/^import\s|\sfrom\s+['"]|\bimport\(|\brequire\(/m);
    }
  });

  it('has no node: import in src/ or dist/, and no Node globals in src/', () => {
    const files = [
      ...readdirSync(join(packageDir, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(packageDir, 'src', f)),
      distPath('index.js'),
      distPath('index.cjs'),
    ];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/['"]node:/);
      if (!file.includes('/src/')) continue;
      // Code only: comments may show Node usage to readers. (tsconfig.src.json, without Node's
      // types, checks the same at compile time.)
      const code = text
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
        .join('\n');
      expect(code, file).not.toMatch(/\b(process|Buffer|require)\s*[.(]/);
    }
  });
});

describe('the built SDK in an edge sandbox (@edge-runtime/vm)', () => {
  it('bundles for the browser and sends a message where require, process and Buffer are absent', async () => {
    const output = await build({
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: packageDir,
      stdin: {
        contents: [
          "import { runSmoke } from './test/edge/smoke.ts';",
          'globalThis.__smoke = () => runSmoke().then((r) => JSON.stringify(r));',
        ].join('\n'),
        resolveDir: packageDir,
        sourcefile: 'edge-entry.ts',
        loader: 'ts',
      },
    });
    expect(Object.keys(output.metafile.inputs)).toContain('dist/index.js');
    expect(Object.keys(output.metafile.inputs).filter((i) => i.startsWith('node:'))).toEqual([]);
    const vm = new EdgeVM();
    vm.evaluate(output.outputFiles[0]!.text);
    const result = JSON.parse(
      await vm.evaluate<Promise<string>>('globalThis.__smoke()'),
    ) as EdgeSmokeResult;
    expect(result.runtime).toEqual({
      require: 'undefined',
      process: 'undefined',
      buffer: 'undefined',
      edgeRuntime: 'string',
    });
    expect(result.accepted).toEqual({
      id: 'msg_1',
      tenantId: 'acme',
      eventType: 'invoice.paid',
      createdAt: '2025-01-31T12:00:00.000Z',
      deliveryCount: 1,
    });
    expect(result.sentBody).toEqual({
      tenant_id: 'acme',
      event_type: 'invoice.paid',
      payload: { invoice_id: 'in_1' },
    });
    expect(result.idempotencyKey).toMatch(UUID);
    expect(result).toMatchObject({
      errorName: 'HooklineApiError',
      errorIsApiError: true,
      errorCode: 'not_found',
    });
  });
});
