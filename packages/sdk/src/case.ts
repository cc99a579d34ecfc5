// The one place where camelCase (TypeScript) and snake_case (the wire) meet.
//
// Only the keys of the API's own objects are converted. The values of free-form maps — a
// message's payload, an endpoint's custom headers and metadata, an event type's JSON Schema and
// example, an attempt's recorded headers — are the user's and pass through untouched, keys and
// all. `test/case.test.ts` derives that list from the `@hookline/api` schemas (every record-typed
// field) and checks it is exactly this one.

/** Wire names of the fields whose values are free-form maps. */
export const FREE_FORM_WIRE_KEYS: readonly string[] = [
  'headers',
  'metadata',
  'payload',
  'schema',
  'example',
  'request_headers',
  'response_headers',
];

/** `tenant_id` → `tenantId`, `latency_ms_p50` → `latencyMsP50`. */
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

/** `tenantId` → `tenant_id`, `latencyMsP50` → `latency_ms_p50`. */
export function snakeKey(key: string): string {
  return key.replace(/[A-Z]/g, (char) => `_${char.toLowerCase()}`);
}

const FREE_FORM_WIRE = new Set(FREE_FORM_WIRE_KEYS);
const FREE_FORM_CAMEL = new Set(FREE_FORM_WIRE_KEYS.map(camelKey));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A request value as the wire wants it: object keys snake_cased (free-form maps excepted),
 * `undefined` members dropped, `Date`s as RFC 3339 strings.
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toWire);
  if (!isPlainObject(value)) return value;
  // Object.fromEntries defines own properties, so a `__proto__` key stays a plain key.
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => [snakeKey(key), FREE_FORM_CAMEL.has(key) ? member : toWire(member)]),
  );
}

/** A response value as TypeScript sees it: object keys camelCased, free-form maps untouched. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, member]) => [
      camelKey(key),
      FREE_FORM_WIRE.has(key) ? member : fromWire(member),
    ]),
  );
}
