import { describe, expect, it } from 'vitest';
import { GatewayError } from '../domain/errors';
import { jsonDepth, MAX_JSON_DEPTH, parseJsonBody } from './body';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('jsonDepth', () => {
  it.each([
    ['1', 0],
    ['"{[{["', 0],
    ['{}', 1],
    ['{"a":[1,{"b":[]}]}', 4],
    ['[[],[[]],[]]', 3],
    ['{"a":"\\"]]]{{{","b":{}}', 2],
    ['{"unterminated": "[[[[', 1],
  ])('measures %s as %i levels deep', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });

  it('stops counting one level past the limit', () => {
    expect(jsonDepth(nested(100_000), 64)).toBe(65);
  });
});

describe('parseJsonBody', () => {
  it(`accepts ${MAX_JSON_DEPTH} levels of nesting`, () => {
    let objects = '1';
    for (let i = 0; i < MAX_JSON_DEPTH; i++) objects = `{"b":${objects}}`;
    expect(jsonDepth(objects)).toBe(MAX_JSON_DEPTH);
    expect(parseJsonBody(objects)).toBeTypeOf('object');
    expect(parseJsonBody(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
  });

  it('refuses one level more with a 400 that says why', () => {
    let error: unknown;
    try {
      parseJsonBody(nested(MAX_JSON_DEPTH + 1));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: 'invalid_request',
      message: `Invalid request body: the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`,
      details: [
        { path: '', message: `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels` },
      ],
    });
  });

  it('refuses a megabyte of brackets quickly, before JSON.parse builds it', () => {
    const started = performance.now();
    expect(() => parseJsonBody(nested(500_000))).toThrow(/deeper than 64 levels/);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
