import { readFileSync } from 'node:fs';
import type * as api from '@hookline/api';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { generateWireTypes, WIRE_FILE } from '../scripts/generate-wire-types';
import type * as wire from './wire.gen';

describe('wire types', () => {
  it('match what the generator makes from @hookline/api today', { timeout: 60_000 }, () => {
    expect(
      readFileSync(WIRE_FILE, 'utf8'),
      'run "pnpm --filter @hookline/react generate:types"',
    ).toBe(generateWireTypes());
  });

  it("equal the schemas' own z.output / z.input types (checked by the typecheck)", () => {
    expectTypeOf<wire.Endpoint>().toEqualTypeOf<z.output<typeof api.endpointSchema>>();
    expectTypeOf<wire.EndpointWithSecret>().toEqualTypeOf<
      z.output<typeof api.endpointWithSecretSchema>
    >();
    expectTypeOf<wire.EndpointStats>().toEqualTypeOf<z.output<typeof api.endpointStatsSchema>>();
    expectTypeOf<wire.DeliveryWithAttempts>().toEqualTypeOf<
      z.output<typeof api.deliveryWithAttemptsSchema>
    >();
    expectTypeOf<wire.Attempt>().toEqualTypeOf<z.output<typeof api.attemptSchema>>();
    expectTypeOf<wire.EventType>().toEqualTypeOf<z.output<typeof api.eventTypeSchema>>();
    expectTypeOf<wire.AlertChannels>().toEqualTypeOf<z.output<typeof api.alertChannelsSchema>>();
    expectTypeOf<wire.EndpointCreateRequest>().toEqualTypeOf<
      z.input<typeof api.endpointCreateRequestSchema>
    >();
    expectTypeOf<wire.EndpointPatchRequest>().toEqualTypeOf<
      z.input<typeof api.endpointPatchRequestSchema>
    >();
    expectTypeOf<wire.DeliveryListQuery>().toEqualTypeOf<
      z.input<typeof api.deliveryListQuerySchema>
    >();
    expectTypeOf<wire.AlertChannelsPutRequest>().toEqualTypeOf<
      z.input<typeof api.alertChannelsPutRequestSchema>
    >();
    expectTypeOf<wire.ErrorBody>().toEqualTypeOf<z.output<typeof api.errorBodySchema>>();
  });
});
