import { createHmac, createPrivateKey, sign as edSign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { WebhookVerificationError, WebhookVerificationErrorCode } from '../src/errors';
import type { VerifyModule } from './types';

/**
 * fast-check settings: bounded runs, and a time limit so that shrinking a
 * counterexample of kilobyte-sized bodies cannot stall the suite (a run
 * interrupted before `numRuns` fails rather than passing quietly).
 */
export function propertyOptions(numRuns: number) {
  return { numRuns, plugins: [fc.interruptAfterTimeLimit(10_000, { failOnInterrupt: true })] };
}

/** The HMAC key bytes of a `whsec_` secret, decoded independently of the code under test. */
export function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/** What Standard Webhooks signs: the exact bytes of `${id}.${timestamp}.` followed by the body. */
export function signedBytes(id: string, timestamp: number, payload: string | Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(payload)]);
}

/** The `v1` signature computed with node:crypto's HMAC: the reference for every test. */
export function hmacReference(
  key: Uint8Array,
  id: string,
  timestamp: number,
  payload: string | Uint8Array,
): string {
  const mac = createHmac('sha256', key).update(signedBytes(id, timestamp, payload));
  return `v1,${mac.digest('base64')}`;
}

// PKCS#8 DER prefix for a raw 32-byte ed25519 seed.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The `v1a` signature computed with node:crypto (ed25519 signatures are deterministic). */
export function ed25519Reference(
  secretKey: string,
  id: string,
  timestamp: number,
  payload: string | Uint8Array,
): string {
  const seed = Buffer.from(secretKey.replace(/^whsk_/, ''), 'base64').subarray(0, 32);
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return `v1a,${edSign(null, signedBytes(id, timestamp, payload), key).toString('base64')}`;
}

/** The three headers of a message, spelled exactly as a sender would send them. */
export function webhookHeaders(id: string, timestamp: number, signature: string) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  } as Record<string, string>;
}

/**
 * Every spelling of the given secrets and signature headers that must never
 * appear in an error: the secret with and without its prefix (padded or not)
 * and any 8 characters of it, each signature entry and its base64 part.
 */
export function sensitiveStrings(secrets: readonly string[], signatureHeaders: readonly string[]) {
  const out = new Set<string>();
  for (const secret of secrets) {
    out.add(secret);
    const body = secret.replace(/^wh(sec|sk|pk)_/, '');
    out.add(body);
    out.add(body.replace(/=+$/, ''));
    // Any 8 characters of a secret in a row count as a leak too.
    for (let i = 0; i + 8 <= body.length; i++) out.add(body.slice(i, i + 8));
  }
  for (const header of signatureHeaders) {
    for (const entry of header.split(/[ ,]+/)) {
      // Version tags (`v1`) are not secret; anything longer that came from the header is.
      if (entry.length >= 5) out.add(entry);
    }
    for (const entry of header.split(' ')) if (entry.length >= 5) out.add(entry);
  }
  // A bare prefix (`whsec_`) is no secret, and error messages name it on purpose.
  return [...out].filter((s) => s.length >= 5 && !/^wh(sec|sk|pk)_$/.test(s));
}

/** Asserts that none of `sensitive` leaks through the error's message, string form or stack. */
export function expectNoLeak(error: Error, sensitive: readonly string[]): void {
  const surfaces = [error.message, String(error), error.stack ?? ''];
  for (const s of sensitive) {
    for (const surface of surfaces) {
      expect(surface.includes(s), `error text leaks "${s}": ${surface}`).toBe(false);
    }
  }
}

/**
 * Runs `fn`, and asserts it threw the module's `WebhookVerificationError` with
 * `code`, and that the error does not reveal any of `sensitive`.
 */
export function expectVerificationError(
  impl: VerifyModule,
  fn: () => unknown,
  code: WebhookVerificationErrorCode,
  sensitive: readonly string[] = [],
): WebhookVerificationError {
  let thrown: unknown;
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) {
    expect.fail(`expected a WebhookVerificationError "${code}", but it returned ${returned}`);
  }
  expect(thrown).toBeInstanceOf(impl.WebhookVerificationError);
  expect(thrown).toBeInstanceOf(Error);
  const error = thrown as WebhookVerificationError;
  expect({ name: error.name, code: error.code }).toEqual({
    name: 'WebhookVerificationError',
    code,
  });
  expectNoLeak(error, sensitive);
  return error;
}

const distDir = fileURLToPath(new URL('../dist/', import.meta.url));

/** The absolute path of a file in `dist/`, failing clearly when it was not built. */
export function distPath(file: string): string {
  const path = `${distDir}${file}`;
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: build @hookline/verify first ("pnpm --filter @hookline/verify build"; the root "pnpm test" builds before running vitest).`,
    );
  }
  return path;
}

/** Imports a built ESM file from `dist/`, failing with a clear message when it was not built. */
export async function importDist<T>(file: string): Promise<T> {
  return (await import(/* @vite-ignore */ pathToFileURL(distPath(file)).href)) as T;
}

/** Loads a built CJS file from `dist/` through Node's own `require`. */
export function requireDist<T>(file: string): T {
  return createRequire(import.meta.url)(distPath(file)) as T;
}
