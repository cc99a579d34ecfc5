import { describe, expect, it } from 'vitest';
import { badPaths, detailsOf, parseOk } from '../test/helpers';
import { alertChannelsPutRequestSchema, alertChannelsSchema } from './index';

describe('alert channels put request', () => {
  it('accepts emails and a Slack-compatible webhook URL, or neither', () => {
    const body = {
      emails: ['ops@acme.example', 'cto@acme.example'],
      slack_webhook_url: 'https://hooks.slack.com/services/T000/B000/XXXX',
    };
    expect(parseOk(alertChannelsPutRequestSchema, body)).toEqual(body);
    expect(parseOk(alertChannelsPutRequestSchema, {})).toEqual({});
    expect(parseOk(alertChannelsPutRequestSchema, { slack_webhook_url: null })).toEqual({
      slack_webhook_url: null,
    });
  });

  it('names the bad email by its position', () => {
    expect(
      detailsOf(alertChannelsPutRequestSchema, { emails: ['ok@acme.example', 'nope'] }),
    ).toEqual([{ path: 'emails[1]', message: 'must be an email address' }]);
  });

  it.each([
    ['emails', 'ops@acme.example'],
    ['emails', Array.from({ length: 21 }, (_, i) => `u${i}@acme.example`)],
    ['slack_webhook_url', 'not a url'],
    ['slack_webhook_url', 'ftp://hooks.example'],
  ])('rejects a bad %s', (field, value) => {
    expect(badPaths(alertChannelsPutRequestSchema, { [field]: value })).toEqual([field]);
  });

  it('rejects unknown fields', () => {
    expect(badPaths(alertChannelsPutRequestSchema, { sms: ['+1555'] })).toEqual(['sms']);
  });

  it('describes the stored channels', () => {
    const channels = { tenant_id: 'acme', emails: [], slack_webhook_url: null };
    expect(alertChannelsSchema.parse(channels)).toEqual(channels);
  });
});
