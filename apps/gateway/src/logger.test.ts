import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { accessLogger, createLogger } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

describe('logger', () => {
  it('redacts secrets, payloads, bodies, tokens and authorization headers, at the top and one level down', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        secret: 's1',
        payload: { card: '4242' },
        token: 't1',
        headers: { authorization: 'Bearer k1', 'webhook-signature': 'v1,sig', accept: '*/*' },
        endpoint: { secret: 's2', body: 'b2', url: 'https://example.com/hook' },
      },
      'line',
    );
    const text = JSON.stringify(lines);
    for (const value of ['s1', '4242', 't1', 'k1', 'v1,sig', 's2', 'b2']) {
      expect(text).not.toContain(value);
    }
    expect(lines[0]).toMatchObject({
      msg: 'line',
      headers: { accept: '*/*', authorization: '[redacted]' },
      endpoint: { url: 'https://example.com/hook', secret: '[redacted]' },
    });
  });

  it('writes access lines as given, and the logger it came from still redacts', () => {
    const { lines, logger } = capture();
    const access = accessLogger(logger);
    const fields = { req_id: 'r1', method: 'POST', route: '/v1/messages', status: 202 };
    access.info({ ...fields, duration_ms: 1.5 }, 'request');
    logger.info({ secret: 's3' }, 'after');
    expect(lines[0]).toMatchObject({ ...fields, duration_ms: 1.5, msg: 'request', level: 30 });
    expect(lines[1]).toMatchObject({ secret: '[redacted]', msg: 'after' });
  });
});
