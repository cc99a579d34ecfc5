/** Header names the gateway sets itself or that steer the transport; an endpoint's custom headers may not use them. */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'user-agent',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
  'proxy-connection',
  'http2-settings',
]);

// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space and tab, and obs-text; no CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const SENSITIVE = /auth|token|secret|passw|api[-_]?key|cookie|session|credential|signature/i;

/** True for names custom headers may not set: the reserved list and every `webhook-*` name. */
export function isReservedHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADER_NAMES.has(lower) || lower.startsWith('webhook-');
}

/** Why each custom header is unacceptable (empty when all are fine), for request validation. */
export function customHeaderProblems(headers: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) problems.push(`"${name}" is not a valid header name.`);
    else if (isReservedHeaderName(name))
      problems.push(`"${name}" is set by the gateway and cannot be overridden.`);
    else if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
      problems.push(`The value of "${name}" contains characters not allowed in a header.`);
    }
  }
  return problems;
}

/** True for header names whose values are likely credentials (authorization, cookies, tokens, keys). */
export function isSensitiveHeaderName(name: string): boolean {
  return SENSITIVE.test(name);
}

/** A copy fit for logs: values of sensitive headers, signatures included, replaced by `[redacted]`. */
export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = isSensitiveHeaderName(name) ? '[redacted]' : value;
  }
  return out;
}
