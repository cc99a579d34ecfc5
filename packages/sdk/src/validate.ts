// Argument checks that fail before anything is sent, with messages that say what was expected.
// They describe a bad value by its type, never by its content: a caller that passes a secret
// or a token in the wrong place must not find it in an error message or a log.

/** The kind of a value, for error messages: `undefined`, `a number`, `an empty string`, … */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)
      ?.constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return `a ${typeof value}`;
}

const ID_KINDS = {
  endpoint: 'ep_',
  message: 'msg_',
  delivery: 'dlv_',
} as const;

/** Checks an id argument, e.g. `endpoints.get(id)` needs `ep_…`. */
export function requireId(value: unknown, kind: keyof typeof ID_KINDS, method: string): string {
  const prefix = ID_KINDS[kind];
  if (typeof value !== 'string' || !value.startsWith(prefix) || value.length === prefix.length) {
    const article = kind === 'endpoint' ? 'an' : 'a';
    const got =
      typeof value !== 'string' || value === ''
        ? describeValue(value)
        : value === prefix
          ? `only ${prefix}`
          : `a string without ${prefix}`;
    throw new TypeError(
      `Hookline: ${method} needs ${article} ${kind} id (${prefix}…), got ${got}.`,
    );
  }
  return value;
}

/** Checks a required non-empty string argument (a tenant id, an event type name). */
export function requireString(value: unknown, what: string, method: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`Hookline: ${method} needs ${what}, got ${describeValue(value)}.`);
  }
  return value;
}

/** Checks that a params argument is an object (not null, not an array). */
export function requireParams<T extends object>(value: T, method: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Hookline: ${method} needs a params object, got ${describeValue(value)}.`);
  }
  return value;
}

/** Checks optional params: undefined, or an object. */
export function optionalParams<T extends object>(
  value: T | undefined,
  method: string,
): T | undefined {
  return value === undefined ? undefined : requireParams(value, method);
}

/** Checks a payload: a plain JSON object (not an array, a Date, a Map…). */
export function requireJsonObject(value: unknown, what: string, method: string): void {
  const proto =
    typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(
      `Hookline: ${method} needs ${what} to be a JSON object, got ${describeValue(value)}.`,
    );
  }
}

/** A positive whole number option (`concurrency`), or its default. */
export function positiveInteger(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Hookline: ${name} must be a whole number ≥ 1, got ${describeValue(value)}.`,
    );
  }
  return value;
}
