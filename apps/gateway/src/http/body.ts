import { GatewayError } from '../domain/errors';

/** Largest request body any route but `POST /v1/messages` accepts, in bytes. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Deepest nesting of objects and arrays a JSON body may have (the body itself is level 1). */
export const MAX_JSON_DEPTH = 64;

function tooLarge(limit: number): GatewayError {
  return new GatewayError(
    'payload_too_large',
    `The request body is larger than ${limit} bytes (${formatBytes(limit)}).`,
  );
}

function formatBytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/**
 * Reads a request body as UTF-8 text, refusing (413) more than `limit` bytes before reading them
 * all: a declared `content-length` over the limit is refused without reading anything, and a
 * streamed body is cut off as soon as it passes the limit.
 */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (declared !== null && /^\d+$/.test(declared)) {
    // A declared length within the limit: the HTTP parser delivers exactly that many bytes, so
    // the body can be read whole. `arrayBuffer()` is @hono/node-server's direct read from the
    // socket (no web stream, no AbortSignal), which is most of a small request's cost.
    if (declared === '0') return '';
    return decodeUtf8(new Uint8Array(await request.arrayBuffer()));
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return decodeUtf8(Buffer.concat(chunks));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidBody('is not valid UTF-8');
  }
}

/**
 * Refuses a body that is not declared as JSON: `application/json` or any `application/*+json`,
 * with any parameters. Answered 400 (not 415): API.md's status list has no 415, and a wrong
 * media type is invalid input like any other.
 */
export function assertJsonContentType(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return;
  const message = 'must be application/json';
  throw new GatewayError(
    'invalid_request',
    `Invalid request headers: content-type ${message} for a request with a body.`,
    { details: [{ path: 'content-type', message }] },
  );
}

/**
 * Parses a JSON body; 400 naming the problem when it is not JSON or nests objects and arrays
 * deeper than `maxDepth`. The depth is checked on the text first, in one pass: deeply nested
 * input would otherwise reach recursive code (validation, canonical hashing, serialisation)
 * and exhaust the stack.
 */
export function parseJsonBody(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw invalidBody(`nests objects and arrays deeper than ${maxDepth} levels`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalidBody('is not valid JSON');
  }
}

/**
 * The deepest nesting of `{`/`[` outside strings in a JSON text, counting no further than
 * `limit + 1` (enough to know it is too deep). Brackets of malformed text are counted as they
 * come; `JSON.parse` judges the rest.
 */
export function jsonDepth(text: string, limit: number = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i) - 1;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

function invalidBody(predicate: string): GatewayError {
  return new GatewayError(
    'invalid_request',
    `Invalid request body: the request body ${predicate}.`,
    {
      details: [{ path: '', message: predicate }],
    },
  );
}

// JSON insignificant whitespace (RFC 8259 §2).
function skipWhitespace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else return i;
  }
}

// `at` is on the opening quote; returns the index after the closing one.
function skipString(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (Number.isNaN(c)) return i;
    i += c === 0x5c ? 2 : 1;
  }
}

function skipValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === 0x22) return skipString(text, at);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    let i = at;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i = skipString(text, i);
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  let i = at;
  while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
  return i;
}

/**
 * The exact source text of a top-level member of a JSON object text that `JSON.parse` accepted,
 * or undefined when it has none (the last one wins on duplicates, as with `JSON.parse`). Lets a
 * payload be stored and delivered byte for byte — `JSON.stringify(JSON.parse(…))` would reorder
 * integer-like keys and round large numbers.
 */
export function memberSourceText(json: string, key: string): string | undefined {
  let i = skipWhitespace(json, 0);
  if (json.charCodeAt(i) !== 0x7b) return undefined;
  i = skipWhitespace(json, i + 1);
  if (json.charCodeAt(i) === 0x7d) return undefined;
  let found: string | undefined;
  while (i < json.length) {
    const keyEnd = skipString(json, i);
    const name = JSON.parse(json.slice(i, keyEnd)) as string;
    i = skipWhitespace(json, skipWhitespace(json, keyEnd) + 1);
    const valueEnd = skipValue(json, i);
    if (name === key) found = json.slice(i, valueEnd);
    i = skipWhitespace(json, valueEnd);
    if (json.charCodeAt(i) !== 0x2c) break;
    i = skipWhitespace(json, i + 1);
  }
  return found;
}
