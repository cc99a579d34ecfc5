import { describe, expect, it } from 'vitest';
import { badPaths, detailsOf, parseOk } from '../test/helpers';
import { portalLinkCreateRequestSchema, portalLinkSchema } from './index';

describe('portal link create request', () => {
  it('defaults expires_in_seconds to 3600', () => {
    expect(parseOk(portalLinkCreateRequestSchema, { tenant_id: 'acme' })).toEqual({
      tenant_id: 'acme',
      expires_in_seconds: 3600,
    });
  });

  it('accepts an endpoint scope and up to 604800 seconds', () => {
    const body = { tenant_id: 'acme', endpoint_id: 'ep_1', expires_in_seconds: 604_800 };
    expect(parseOk(portalLinkCreateRequestSchema, body)).toEqual(body);
  });

  it.each([604_801, 59, 0, 1.5, '3600'])('rejects expires_in_seconds=%j', (value) => {
    expect(
      badPaths(portalLinkCreateRequestSchema, { tenant_id: 'acme', expires_in_seconds: value }),
    ).toEqual(['expires_in_seconds']);
  });

  it('requires tenant_id and rejects a bad endpoint_id and unknown fields', () => {
    expect(detailsOf(portalLinkCreateRequestSchema, {})).toEqual([
      { path: 'tenant_id', message: 'is required' },
    ]);
    expect(
      badPaths(portalLinkCreateRequestSchema, {
        tenant_id: 'acme',
        endpoint_id: 'x',
        scope: 'all',
      }),
    ).toEqual(['endpoint_id', 'scope']);
  });

  it('describes the 201 answer', () => {
    const link = {
      url: 'https://hooks.acme.example/portal#token=hl_pt_abc',
      token: 'hl_pt_abc',
      expires_at: '2025-01-31T13:00:00Z',
    };
    expect(portalLinkSchema.parse(link)).toEqual(link);
  });
});
