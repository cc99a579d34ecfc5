// The portable build, bundled for the browser and run inside an edge sandbox
// (@edge-runtime/vm): no Node APIs, only web-standard globals.
import { fileURLToPath } from 'node:url';
import { EdgeVM } from '@edge-runtime/vm';
import { type BuildOptions, build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ed25519Node from '../src/ed25519-node';
import type { ConformanceResult } from './edge/conformance';
import { distPath, ed25519Reference, sensitiveStrings } from './helpers';
import { ED25519_KEYS, VECTORS } from './vectors';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const browser = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  conditions: ['browser'],
  target: 'es2022',
  write: false,
  metafile: true,
  logLevel: 'silent',
  absWorkingDir: packageDir,
} satisfies BuildOptions;

// Fails the file with a clear message when dist/ has not been built.
distPath('index.js');
distPath('ed25519.js');

let bundle: string;
let inputs: string[];
let result: ConformanceResult;

beforeAll(async () => {
  const output = await build({
    ...browser,
    stdin: {
      contents: [
        "import * as main from './dist/index.js';",
        "import * as ed25519 from './dist/ed25519.js';",
        "import { runConformance } from './test/edge/conformance.ts';",
        'globalThis.__conformance = JSON.stringify(runConformance(main, ed25519));',
      ].join('\n'),
      resolveDir: packageDir,
      sourcefile: 'edge-entry.ts',
      loader: 'ts',
    },
  });
  bundle = output.outputFiles[0]!.text;
  inputs = Object.keys(output.metafile.inputs);
  const vm = new EdgeVM();
  vm.evaluate(bundle);
  result = JSON.parse(vm.evaluate<string>('globalThis.__conformance')) as ConformanceResult;
});

describe('the portable build in an edge sandbox', () => {
  it('bundles dist/index.js and dist/ed25519.js for the browser with no node: import', () => {
    expect(inputs).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/ed25519.js', 'test/edge/conformance.ts']),
    );
    expect(inputs.filter((input) => input.startsWith('node:'))).toEqual([]);
    expect(bundle).not.toMatch(/\bnode:[a-z]/);
    expect(bundle).not.toMatch(/\brequire\(/);
  });

  it('refuses to bundle the node build the same way (the check above can fail)', async () => {
    // tsup may drop the `node:` prefix; either way a browser bundle cannot resolve it.
    await expect(build({ ...browser, entryPoints: [distPath('node.js')] })).rejects.toThrow(
      /Could not resolve "(node:)?crypto"/,
    );
  });

  it('runs where require, process and Buffer are absent', () => {
    expect(result.runtime).toEqual({
      require: 'undefined',
      process: 'undefined',
      buffer: 'undefined',
      edgeRuntime: 'string',
    });
  });

  it('signs both Standard Webhooks vectors, from strings and from bytes', () => {
    expect(result.vectors.map((v) => [v.signature, v.signatureFromBytes])).toEqual(
      VECTORS.map((v) => [v.signature, v.signature]),
    );
  });

  it('verifies both Standard Webhooks vectors and returns their parsed JSON', () => {
    expect(result.vectors.map((v) => v.verified)).toEqual(
      VECTORS.map((v) => `ok:${JSON.stringify(v.parsed)}`),
    );
  });

  it('gives every positive and negative case its expected outcome', () => {
    const parsed = `ok:${JSON.stringify(VECTORS[0].parsed)}`;
    expect(result.cases).toEqual({
      valid: parsed,
      'valid, WHATWG Headers': parsed,
      'valid, Uint8Array body': parsed,
      'valid, ArrayBuffer body': parsed,
      'valid, svix-* headers': parsed,
      'valid, mixed-case header names': parsed,
      'valid, signature first of three': parsed,
      'valid, signature last of three': parsed,
      'valid, parse: false': `ok:${JSON.stringify(VECTORS[0].payload)}`,
      'valid, jsonParse: false': 'ok:undefined',
      'valid, rotation with the old secret live': parsed,
      'valid, secret without prefix': parsed,
      'valid, empty body': 'ok:undefined',
      'valid, generated secret': parsed,
      'timestamp too old': 'timestamp_too_old',
      'timestamp too new': 'timestamp_too_new',
      'timestamp exactly 300 s old': parsed,
      'missing webhook-id': 'missing_headers',
      'missing webhook-timestamp': 'missing_headers',
      'missing webhook-signature': 'missing_headers',
      'partial signature': 'no_matching_signature',
      'bare v1,': 'no_matching_signature',
      'no matching signature among several': 'no_matching_signature',
      'wrong secret': 'no_matching_signature',
      'tampered body': 'no_matching_signature',
      'tampered id': 'no_matching_signature',
      'tampered timestamp': 'no_matching_signature',
      'non-numeric timestamp': 'invalid_timestamp',
      'signature header with no entries': 'invalid_signature_header',
      'valid signature, body not JSON': 'invalid_payload',
      'empty secret': 'invalid_secret',
      'secret not base64': 'invalid_secret',
      'no secrets': 'invalid_secret',
      'main entry given whpk_': 'invalid_secret',
      'ed25519: v1a verified with whpk_': parsed,
      'ed25519: mixed header, whpk_': parsed,
      'ed25519: mixed header, whsec_': parsed,
      'ed25519: tampered v1a': 'no_matching_signature',
      'ed25519: whpk_ cannot sign': 'invalid_secret',
      'ed25519: generated pair': parsed,
    });
  });

  it('signs v1a as node:crypto does, and its generated keys work in Node', () => {
    const [v] = VECTORS;
    expect(result.ed25519.signature).toBe(
      ed25519Reference(ED25519_KEYS.secretKey, v.id, v.timestamp, v.payload),
    );
    const wh = new ed25519Node.Webhook(result.ed25519.generatedPublicKey, {
      now: () => v.timestamp * 1000,
    });
    const headers = {
      'webhook-id': v.id,
      'webhook-timestamp': String(v.timestamp),
      'webhook-signature': result.ed25519.generatedSignature,
    };
    expect(wh.verify(v.payload, headers)).toEqual(v.parsed);
  });

  it('reveals no secret or signature in any error message raised in the sandbox', () => {
    const secrets = [
      ...VECTORS.map((v) => v.secret),
      ED25519_KEYS.secretKey,
      ED25519_KEYS.publicKey,
    ];
    const signatures = [...VECTORS.map((v) => v.signature), result.ed25519.signature];
    const sensitive = sensitiveStrings(secrets, signatures);
    expect(result.messages.length).toBeGreaterThanOrEqual(20);
    for (const message of result.messages) {
      for (const s of sensitive) expect(message).not.toContain(s);
    }
  });
});
