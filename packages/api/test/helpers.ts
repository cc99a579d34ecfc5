import type { z } from 'zod';
import { type ErrorDetail, parseRequest, type RequestLocation } from '../src/index';

/** The `details` a body (or query) would be answered with; `[]` when it is valid. */
export function detailsOf(
  schema: z.ZodType,
  input: unknown,
  location: RequestLocation = 'body',
): ErrorDetail[] {
  const result = parseRequest(schema, input, location);
  return result.success ? [] : (result.error.error.details ?? []);
}

/** The wire paths of every bad field of `input`. */
export function badPaths(schema: z.ZodType, input: unknown): string[] {
  return detailsOf(schema, input).map((detail) => detail.path);
}

/** Parses and throws with the details when `input` is invalid. */
export function parseOk<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
): z.output<Schema> {
  const result = parseRequest(schema, input, 'body');
  if (!result.success) throw new Error(JSON.stringify(result.error));
  return result.data;
}

/** A base64 string of `bytes` zero bytes (for secrets of a given length). */
export function base64OfLength(bytes: number): string {
  return Buffer.alloc(bytes, 7).toString('base64');
}
