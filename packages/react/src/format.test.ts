import { describe, expect, it } from 'vitest';
import {
  detailsByField,
  endpointUrlProblem,
  eventFilterSummary,
  formatDelay,
  formatLatency,
  formatRate,
  prettyBody,
  sentence,
} from './format';

describe('endpointUrlProblem', () => {
  it('accepts an https URL and refuses http unless the gateway allows it', () => {
    expect(endpointUrlProblem('https://example.com/hooks', false)).toBeNull();
    expect(endpointUrlProblem('http://example.com/hooks', false)).toBe(
      'The URL must start with https://.',
    );
    expect(endpointUrlProblem('http://example.com/hooks', true)).toBeNull();
  });

  it('refuses an empty value, a relative URL, other schemes and credentials', () => {
    expect(endpointUrlProblem('  ', false)).toBe('Enter the URL that should receive webhooks.');
    expect(endpointUrlProblem('example.com/hooks', false)).toBe(
      'Enter a full URL, like https://example.com/webhooks.',
    );
    expect(endpointUrlProblem('ftp://example.com', true)).toBe(
      'The URL must start with https:// or http://.',
    );
    expect(endpointUrlProblem('https://user:pw@example.com/', false)).toBe(
      'The URL must not contain a username or password.',
    );
  });
});

describe('formatting', () => {
  it('summarises an event filter', () => {
    expect(eventFilterSummary([])).toBe('All events');
    expect(eventFilterSummary(['a.b'])).toBe('a.b');
    expect(eventFilterSummary(['a.b', 'c.d'])).toBe('a.b, c.d');
    expect(eventFilterSummary(['a.b', 'c.d', 'e.f'])).toBe('a.b +2 more');
  });

  it('writes latencies, delays and rates for people', () => {
    expect(formatLatency(null)).toBe('—');
    expect(formatLatency(42.4)).toBe('42 ms');
    expect(formatLatency(1234)).toBe('1.23 s');
    expect(formatLatency(15_000)).toBe('15.0 s');
    expect(formatDelay(0)).toBe('immediately');
    expect(formatDelay(30)).toBe('30 s');
    expect(formatDelay(300)).toBe('5 min');
    expect(formatDelay(7200)).toBe('2 h');
    expect(formatDelay(86_400)).toBe('1 d');
    expect(formatRate(null)).toBe('—');
    expect(formatRate(0.9666)).toBe('96.7%');
  });

  it('pretty-prints JSON bodies and leaves other text alone', () => {
    expect(prettyBody('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyBody('{not json')).toBe('{not json');
    expect(prettyBody('plain text')).toBe('plain text');
  });

  it('groups error details by their top-level field', () => {
    const grouped = detailsByField([
      { path: 'url', message: 'must use https://' },
      { path: 'headers["X-Token"]', message: 'is a reserved header name' },
      { path: 'headers.Host', message: 'is a reserved header name' },
      { path: 'retry_schedule[2]', message: 'must be at most 86400 seconds (24 h)' },
      { path: '', message: 'must be a JSON object' },
    ]);
    expect([...grouped.keys()]).toEqual(['url', 'headers', 'retry_schedule', '']);
    expect(grouped.get('headers')).toHaveLength(2);
  });

  it('turns a predicate into a sentence', () => {
    expect(sentence('must use https://')).toBe('Must use https://.');
    expect(sentence('Done.')).toBe('Done.');
  });
});
