import type { z } from 'zod';
import { type ErrorBody, type ErrorDetail, errorBody } from './common';

/** Where a validated value came from. */
export type RequestLocation = 'body' | 'query' | 'path' | 'header';

/** The error code of every 400 produced from a schema. */
export const INVALID_REQUEST_CODE = 'invalid_request';

// Past this many bad fields the message says "and N more"; `details` still lists all.
const MAX_FIELDS_IN_MESSAGE = 10;

const LOCATION_LABEL: Record<RequestLocation, string> = {
  body: 'request body',
  query: 'query parameters',
  path: 'path parameters',
  header: 'request headers',
};

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The wire path of an issue: `retry_schedule[2]`, `headers["X-Token"]`, `a.b`; `''` for the
 * whole input. Keys are shown as sent (wire names are snake_case already).
 */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

const TYPE_PREDICATE: Record<string, string> = {
  string: 'must be a string',
  number: 'must be a number',
  int: 'must be a whole number',
  bigint: 'must be a whole number',
  boolean: 'must be true or false',
  object: 'must be a JSON object',
  record: 'must be a JSON object',
  array: 'must be an array',
  null: 'must be null',
  date: 'must be a date',
};

const FORMAT_PREDICATE: Record<string, string> = {
  url: 'must be a valid URL',
  email: 'must be an email address',
  datetime: 'must be an RFC 3339 timestamp',
  date: 'must be a date (YYYY-MM-DD)',
  uuid: 'must be a UUID',
  regex: 'has an invalid format',
};

const SIZE_UNIT: Record<string, string> = {
  string: 'characters',
  array: 'items',
  set: 'items',
  map: 'entries',
  file: 'bytes',
};

// A predicate from an issue's code and parameters alone (used when the schema gave none).
function predicateFor(issue: Issue | RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_PREDICATE[issue.expected] ?? `must be ${issue.expected}`;
    case 'too_small': {
      const unit = SIZE_UNIT[issue.origin];
      const n = String(issue.minimum);
      if (issue.exact) return `must be exactly ${n}${unit ? ` ${unit}` : ''}`;
      if (unit && n === '1' && issue.inclusive !== false) return 'must not be empty';
      if (unit) return `must have at least ${n} ${unit}`;
      return issue.inclusive === false ? `must be greater than ${n}` : `must be at least ${n}`;
    }
    case 'too_big': {
      const unit = SIZE_UNIT[issue.origin];
      const n = String(issue.maximum);
      if (issue.exact) return `must be exactly ${n}${unit ? ` ${unit}` : ''}`;
      if (unit) return `must have at most ${n} ${unit}`;
      return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
    }
    case 'invalid_format':
      return FORMAT_PREDICATE[issue.format] ?? `must be a valid ${issue.format}`;
    case 'invalid_value': {
      const values = issue.values.map((value) => JSON.stringify(value));
      return values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(', ')}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'invalid_key': {
      const inner = issue.issues[0];
      // The path already names the key; key schemas word their messages for it.
      return inner ? messageOf(inner) : 'has an invalid name';
    }
    case 'invalid_element':
      return 'has an invalid value';
    case 'invalid_union':
      return 'does not match any allowed form';
    default:
      return 'is invalid';
  }
}

// Our own messages are lowercase predicates; zod's English defaults start with a capital
// ("Invalid input: …", "Too big: …"), and are replaced by a predicate built from the issue.
function messageOf(issue: Issue): string {
  const { message } = issue;
  if (issue.code === 'custom' || /^[a-z]/.test(message)) return message;
  if (issue.code === 'invalid_type' && /received undefined$/.test(message)) return 'is required';
  return predicateFor(issue);
}

/**
 * A per-parse error map producing wire-quality predicates ("is required", "must be at most
 * 250"); `parseRequest` uses it. Messages written on a schema take precedence over it.
 */
export const requestErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  return predicateFor(issue);
};

/**
 * The 400 body for a failed parse: code `invalid_request`, a message naming every bad field,
 * and one `{path, message}` per bad field (the first problem of each field; every unknown
 * field by name).
 */
export function formatZodError(error: z.core.$ZodError, location: RequestLocation): ErrorBody {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    details.push({ path, message });
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        add(formatIssuePath([...issue.path, key]), 'is not a known field');
      }
    } else {
      add(formatIssuePath(issue.path), messageOf(issue));
    }
  }
  const label = LOCATION_LABEL[location];
  const parts = details
    .slice(0, MAX_FIELDS_IN_MESSAGE)
    .map((detail) =>
      detail.path === '' ? `the ${label} ${detail.message}` : `${detail.path} ${detail.message}`,
    );
  const more = details.length - parts.length;
  if (more > 0) parts.push(`and ${more} more`);
  return errorBody(INVALID_REQUEST_CODE, `Invalid ${label}: ${parts.join('; ')}.`, details);
}

/** The outcome of `parseRequest`. */
export type ParseRequestResult<T> =
  | { success: true; data: T }
  | { success: false; error: ErrorBody };

/**
 * Parses one part of a request with `requestErrorMap`, answering either the parsed value or
 * the 400 body to send.
 */
export function parseRequest<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  location: RequestLocation,
): ParseRequestResult<z.output<Schema>> {
  const result = schema.safeParse(input, { error: requestErrorMap });
  if (result.success) return { success: true, data: result.data };
  return { success: false, error: formatZodError(result.error, location) };
}
