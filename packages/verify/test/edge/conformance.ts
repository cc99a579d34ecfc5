// Runs inside the edge sandbox (no vitest, no Node APIs): bundled with the
// portable dist build by edge.test.ts, which asserts on what this returns.
import type { Ed25519Module, VerifyModule } from '../types';
import { ED25519_KEYS, VECTORS } from '../vectors';

export interface ConformanceResult {
  runtime: { require: string; process: string; buffer: string; edgeRuntime: string };
  vectors: { signature: string; signatureFromBytes: string; verified: string }[];
  /** Case name → `ok:<JSON result>` or the error code (or `unexpected …`). */
  cases: Record<string, string>;
  ed25519: { signature: string; generatedPublicKey: string; generatedSignature: string };
  /** Every error message raised, to check that none reveals a secret or signature. */
  messages: string[];
}

export function runConformance(main: VerifyModule, ed: Ed25519Module): ConformanceResult {
  const messages: string[] = [];
  const outcome = (fn: () => unknown): string => {
    try {
      const value = fn();
      return `ok:${value === undefined ? 'undefined' : JSON.stringify(value)}`;
    } catch (error) {
      const e = error as { name?: string; message?: string; code?: string };
      messages.push(String(e.message));
      const known =
        error instanceof main.WebhookVerificationError ||
        error instanceof ed.WebhookVerificationError;
      return known && error instanceof Error
        ? String(e.code)
        : `unexpected ${e.name}: ${e.message}`;
    }
  };

  const g = globalThis as Record<string, unknown>;
  const runtime = {
    require: typeof g.require,
    process: typeof g.process,
    buffer: typeof g.Buffer,
    edgeRuntime: typeof g.EdgeRuntime,
  };
  // Asserted here as well as reported: none of this may run with Node's globals around.
  if (runtime.require !== 'undefined' || runtime.process !== 'undefined') {
    throw new Error('Not an edge sandbox: require or process is defined.');
  }

  const encoder = new TextEncoder();
  const vectors = VECTORS.map((v) => {
    const wh = new main.Webhook(v.secret, { now: () => v.timestamp * 1000 });
    const headers = {
      'webhook-id': v.id,
      'webhook-timestamp': String(v.timestamp),
      'webhook-signature': v.signature,
    };
    return {
      signature: wh.sign(v.id, new Date(v.timestamp * 1000), v.payload),
      signatureFromBytes: wh.sign(v.id, v.timestamp, encoder.encode(v.payload)),
      verified: outcome(() => wh.verify(v.payload, headers)),
    };
  });

  const [v, other] = VECTORS;
  const at = (seconds: number) => ({ now: () => seconds * 1000 });
  const wh = new main.Webhook(v.secret, at(v.timestamp));
  const good = {
    'webhook-id': v.id,
    'webhook-timestamp': String(v.timestamp),
    'webhook-signature': v.signature,
  };
  const without = (name: string) =>
    Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
  const withSignature = (signature: string) => ({ ...good, 'webhook-signature': signature });
  const junk = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
  const signedBody = (payload: string) => ({
    ...good,
    'webhook-signature': wh.sign(v.id, v.timestamp, payload),
  });

  const cases: Record<string, string> = {
    valid: outcome(() => wh.verify(v.payload, good)),
    'valid, WHATWG Headers': outcome(() => wh.verify(v.payload, new Headers(good))),
    'valid, Uint8Array body': outcome(() => wh.verify(encoder.encode(v.payload), good)),
    'valid, ArrayBuffer body': outcome(() => wh.verify(encoder.encode(v.payload).buffer, good)),
    'valid, svix-* headers': outcome(() =>
      wh.verify(v.payload, {
        'svix-id': v.id,
        'svix-timestamp': String(v.timestamp),
        'svix-signature': v.signature,
      }),
    ),
    'valid, mixed-case header names': outcome(() =>
      wh.verify(v.payload, {
        'Webhook-Id': v.id,
        'Webhook-Timestamp': String(v.timestamp),
        'Webhook-Signature': v.signature,
      }),
    ),
    'valid, signature first of three': outcome(() =>
      wh.verify(v.payload, withSignature(`${v.signature} ${junk} v2,abc`)),
    ),
    'valid, signature last of three': outcome(() =>
      wh.verify(v.payload, withSignature(`${junk} v2,abc ${v.signature}`)),
    ),
    'valid, parse: false': outcome(() => wh.verify(v.payload, good, { parse: false })),
    'valid, jsonParse: false': outcome(() => wh.verify(v.payload, good, { jsonParse: false })),
    'valid, rotation with the old secret live': outcome(() =>
      new main.Webhook([other.secret, v.secret], at(v.timestamp)).verify(v.payload, good),
    ),
    'valid, secret without prefix': outcome(() =>
      new main.Webhook(v.secret.slice(6), at(v.timestamp)).verify(v.payload, good),
    ),
    'valid, empty body': outcome(() => wh.verify('', signedBody(''))),
    'valid, generated secret': outcome(() => {
      const fresh = new main.Webhook(main.generateSecret(), at(v.timestamp));
      return fresh.verify(v.payload, fresh.headers(v.id, v.payload));
    }),
    'timestamp too old': outcome(() =>
      new main.Webhook(v.secret, at(v.timestamp + 301)).verify(v.payload, good),
    ),
    'timestamp too new': outcome(() =>
      new main.Webhook(v.secret, at(v.timestamp - 301)).verify(v.payload, good),
    ),
    'timestamp exactly 300 s old': outcome(() =>
      new main.Webhook(v.secret, at(v.timestamp + 300)).verify(v.payload, good),
    ),
    'missing webhook-id': outcome(() => wh.verify(v.payload, without('webhook-id'))),
    'missing webhook-timestamp': outcome(() => wh.verify(v.payload, without('webhook-timestamp'))),
    'missing webhook-signature': outcome(() => wh.verify(v.payload, without('webhook-signature'))),
    'partial signature': outcome(() =>
      wh.verify(v.payload, withSignature(v.signature.slice(0, 8))),
    ),
    'bare v1,': outcome(() => wh.verify(v.payload, withSignature('v1,'))),
    'no matching signature among several': outcome(() =>
      wh.verify(v.payload, withSignature(`${junk} v2,${v.signature.slice(3)}`)),
    ),
    'wrong secret': outcome(() =>
      new main.Webhook(other.secret, at(v.timestamp)).verify(v.payload, good),
    ),
    'tampered body': outcome(() => wh.verify(v.payload.replace('2432232314', '2432232315'), good)),
    'tampered id': outcome(() => wh.verify(v.payload, { ...good, 'webhook-id': `${v.id}x` })),
    'tampered timestamp': outcome(() =>
      wh.verify(v.payload, { ...good, 'webhook-timestamp': String(v.timestamp + 1) }),
    ),
    'non-numeric timestamp': outcome(() =>
      wh.verify(v.payload, { ...good, 'webhook-timestamp': 'hello' }),
    ),
    'signature header with no entries': outcome(() => wh.verify(v.payload, withSignature(' '))),
    'valid signature, body not JSON': outcome(() => wh.verify('not json', signedBody('not json'))),
    'empty secret': outcome(() => new main.Webhook('')),
    'secret not base64': outcome(() => new main.Webhook('whsec_n0t*b64!')),
    'no secrets': outcome(() => new main.Webhook([])),
    'main entry given whpk_': outcome(() => new main.Webhook(ED25519_KEYS.publicKey)),
  };

  const { secretKey, publicKey } = ED25519_KEYS;
  const signer = new ed.Webhook(secretKey, at(v.timestamp));
  const v1a = signer.sign(v.id, v.timestamp, v.payload);
  const mixed = withSignature(`${v.signature} ${v1a}`);
  const tampered = `v1a,${v1a.charAt(4) === 'A' ? 'B' : 'A'}${v1a.slice(5)}`;
  const verifier = new ed.Webhook(publicKey, at(v.timestamp));
  const generated = ed.generateKeyPair();
  const generatedSignature = new ed.Webhook(generated.secretKey).sign(v.id, v.timestamp, v.payload);
  Object.assign(cases, {
    'ed25519: v1a verified with whpk_': outcome(() =>
      verifier.verify(v.payload, withSignature(v1a)),
    ),
    'ed25519: mixed header, whpk_': outcome(() => verifier.verify(v.payload, mixed)),
    'ed25519: mixed header, whsec_': outcome(() =>
      new ed.Webhook(v.secret, at(v.timestamp)).verify(v.payload, mixed),
    ),
    'ed25519: tampered v1a': outcome(() => verifier.verify(v.payload, withSignature(tampered))),
    'ed25519: whpk_ cannot sign': outcome(() => verifier.sign(v.id, v.timestamp, v.payload)),
    'ed25519: generated pair': outcome(() =>
      new ed.Webhook(generated.publicKey, at(v.timestamp)).verify(
        v.payload,
        withSignature(generatedSignature),
      ),
    ),
  });

  return {
    runtime,
    vectors,
    cases,
    ed25519: { signature: v1a, generatedPublicKey: generated.publicKey, generatedSignature },
    messages,
  };
}
