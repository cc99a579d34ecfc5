// Pins the public types: every generated type equals the camelCased type that zod infers from
// the @hookline/api schema it was printed from, and the methods take and give those types.
import type * as api from '@hookline/api';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  AlertChannels,
  AlertChannelsParams,
  Attempt,
  AttemptOutcome,
  AttemptSummary,
  BroadcastResult,
  Delivery,
  DeliveryListParams,
  DeliveryStatus,
  DeliveryWithAttempts,
  Endpoint,
  EndpointCreateParams,
  EndpointListParams,
  EndpointRecoverParams,
  EndpointRotateSecretParams,
  EndpointStats,
  EndpointStatsParams,
  EndpointTestParams,
  EndpointUpdateParams,
  EndpointWithSecret,
  ErrorDetail,
  EventType,
  EventTypeCreateParams,
  EventTypeListParams,
  EventTypeUpdateParams,
  HealthStatus,
  Hookline,
  HooklineApiError,
  HooklineApiErrorCode,
  HooklineConnectionError,
  HooklineTimeoutError,
  ImportEndpointResult,
  Message,
  MessageAccepted,
  MessageCreateParams,
  MessageListParams,
  Page,
  Paginator,
  PortalLink,
  PortalLinkCreateParams,
  ReadinessStatus,
  RecoverResult,
  RotatedSecret,
} from '../src/index';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** Keys camelCased at every level, except inside free-form maps (records); inputs take readonly arrays. */
type Camelize<T, Input extends boolean> = T extends readonly (infer Element)[]
  ? Input extends true
    ? readonly Camelize<Element, Input>[]
    : Camelize<Element, Input>[]
  : T extends object
    ? string extends keyof T
      ? T
      : { [K in keyof T as K extends string ? CamelCase<K> : K]: Camelize<T[K], Input> }
    : T;
type Out<T> = Camelize<T, false>;
type In<T> = Camelize<T, true>;

describe('generated types are the camelCased @hookline/api types', () => {
  it('responses', () => {
    expectTypeOf<Endpoint>().toEqualTypeOf<Out<api.Endpoint>>();
    expectTypeOf<EndpointWithSecret>().toEqualTypeOf<Out<api.EndpointWithSecret>>();
    expectTypeOf<RotatedSecret>().toEqualTypeOf<Out<api.EndpointRotateSecretResponse>>();
    expectTypeOf<EndpointStats>().toEqualTypeOf<Out<api.EndpointStats>>();
    expectTypeOf<RecoverResult>().toEqualTypeOf<Out<api.EndpointRecoverResponse>>();
    expectTypeOf<AttemptSummary>().toEqualTypeOf<Out<api.AttemptSummary>>();
    expectTypeOf<Attempt>().toEqualTypeOf<Out<api.Attempt>>();
    expectTypeOf<Delivery>().toEqualTypeOf<Out<api.Delivery>>();
    expectTypeOf<DeliveryWithAttempts>().toEqualTypeOf<Out<api.DeliveryWithAttempts>>();
    expectTypeOf<MessageAccepted>().toEqualTypeOf<Out<api.MessageAccepted>>();
    expectTypeOf<Message>().toEqualTypeOf<Out<api.Message>>();
    expectTypeOf<EventType>().toEqualTypeOf<Out<api.EventType>>();
    expectTypeOf<AlertChannels>().toEqualTypeOf<Out<api.AlertChannels>>();
    expectTypeOf<PortalLink>().toEqualTypeOf<Out<api.PortalLink>>();
    expectTypeOf<ErrorDetail>().toEqualTypeOf<api.ErrorDetail>();
    expectTypeOf<HealthStatus>().toEqualTypeOf<api.HealthResponse>();
    expectTypeOf<ReadinessStatus>().toEqualTypeOf<api.ReadinessResponse>();
    expectTypeOf<DeliveryStatus>().toEqualTypeOf<api.DeliveryStatus>();
    expectTypeOf<AttemptOutcome>().toEqualTypeOf<api.AttemptOutcome>();
  });

  it('requests', () => {
    expectTypeOf<EndpointCreateParams>().toEqualTypeOf<In<api.EndpointCreateRequest>>();
    expectTypeOf<EndpointUpdateParams>().toEqualTypeOf<In<api.EndpointPatchRequest>>();
    expectTypeOf<EndpointRotateSecretParams>().toEqualTypeOf<In<api.EndpointRotateSecretRequest>>();
    expectTypeOf<EndpointListParams>().toEqualTypeOf<In<api.EndpointListQuery>>();
    expectTypeOf<EndpointStatsParams>().toEqualTypeOf<In<api.EndpointStatsQuery>>();
    expectTypeOf<MessageListParams>().toEqualTypeOf<In<api.MessageListQuery>>();
    expectTypeOf<DeliveryListParams>().toEqualTypeOf<In<api.DeliveryListQuery>>();
    expectTypeOf<EventTypeCreateParams>().toEqualTypeOf<In<api.EventTypeCreateRequest>>();
    expectTypeOf<EventTypeUpdateParams>().toEqualTypeOf<In<api.EventTypePatchRequest>>();
    expectTypeOf<EventTypeListParams>().toEqualTypeOf<In<api.EventTypeListQuery>>();
    expectTypeOf<AlertChannelsParams>().toEqualTypeOf<In<api.AlertChannelsPutRequest>>();
    expectTypeOf<PortalLinkCreateParams>().toEqualTypeOf<In<api.PortalLinkCreateRequest>>();
  });

  it('requests whose payload or timestamp is widened on purpose, and only there', () => {
    // `.branded`: a deep comparison that sees through intersections and Date's methods.
    expectTypeOf<MessageCreateParams>().branded.toEqualTypeOf<
      Omit<In<api.MessageCreateRequest>, 'payload'> & { payload: object }
    >();
    expectTypeOf<EndpointTestParams>().branded.toEqualTypeOf<
      Omit<In<api.EndpointTestRequest>, 'payload'> & { payload?: object }
    >();
    expectTypeOf<EndpointRecoverParams>().branded.toEqualTypeOf<{ since: string | Date }>();
    // What was widened still accepts what the schema accepts.
    expectTypeOf<In<api.MessageCreateRequest>>().toMatchTypeOf<MessageCreateParams>();
    expectTypeOf<In<api.EndpointRecoverRequest>>().toMatchTypeOf<EndpointRecoverParams>();
  });

  it('free-form maps keep the user’s keys: plain string records', () => {
    expectTypeOf<Endpoint['headers']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<Endpoint['metadata']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<Message['payload']>().toEqualTypeOf<Record<string, unknown>>();
  });
});

describe('the client’s methods', () => {
  const h = {} as Hookline;

  it('take and give the generated types', () => {
    expectTypeOf(h.endpoints.create).parameter(0).toEqualTypeOf<EndpointCreateParams>();
    expectTypeOf(h.endpoints.create).returns.resolves.toEqualTypeOf<EndpointWithSecret>();
    expectTypeOf(h.endpoints.get).returns.resolves.toEqualTypeOf<Endpoint>();
    expectTypeOf(h.endpoints.update).returns.resolves.toEqualTypeOf<Endpoint>();
    expectTypeOf(h.endpoints.delete).returns.resolves.toEqualTypeOf<void>();
    expectTypeOf(h.endpoints.rotateSecret).returns.resolves.toEqualTypeOf<RotatedSecret>();
    expectTypeOf(h.endpoints.sendTest).returns.resolves.toEqualTypeOf<Attempt>();
    expectTypeOf(h.endpoints.stats).returns.resolves.toEqualTypeOf<EndpointStats>();
    expectTypeOf(h.endpoints.recover).returns.resolves.toEqualTypeOf<RecoverResult>();
    expectTypeOf(h.messages.create).returns.resolves.toEqualTypeOf<MessageAccepted>();
    expectTypeOf(h.messages.get).returns.resolves.toEqualTypeOf<Message>();
    expectTypeOf(h.messages.broadcast).returns.resolves.toEqualTypeOf<BroadcastResult[]>();
    expectTypeOf(h.deliveries.get).returns.resolves.toEqualTypeOf<DeliveryWithAttempts>();
    expectTypeOf(h.deliveries.replay).returns.resolves.toEqualTypeOf<Delivery>();
    expectTypeOf(h.eventTypes.create).returns.resolves.toEqualTypeOf<EventType>();
    expectTypeOf(h.tenants.setAlertChannels).returns.resolves.toEqualTypeOf<AlertChannels>();
    expectTypeOf(h.portal.createLink).returns.resolves.toEqualTypeOf<PortalLink>();
    expectTypeOf(h.operations.metrics).returns.resolves.toEqualTypeOf<string>();
    expectTypeOf(h.importEndpoints).returns.resolves.toEqualTypeOf<ImportEndpointResult[]>();
  });

  it('list() gives a Paginator: async-iterable items, one Page at a time', () => {
    expectTypeOf(h.endpoints.list()).toEqualTypeOf<Paginator<Endpoint>>();
    expectTypeOf(h.messages.list()).toEqualTypeOf<Paginator<Message>>();
    expectTypeOf(h.deliveries.list()).toEqualTypeOf<Paginator<Delivery>>();
    expectTypeOf(h.eventTypes.list()).toEqualTypeOf<Paginator<EventType>>();
    expectTypeOf(h.endpoints.list().page()).resolves.toEqualTypeOf<Page<Endpoint>>();
    expectTypeOf<Page<Endpoint>>().toEqualTypeOf<{ data: Endpoint[]; nextCursor: string | null }>();
    expectTypeOf(h.endpoints.list()).toMatchTypeOf<AsyncIterable<Endpoint>>();
  });

  it('accept idiomatic TypeScript values', () => {
    interface InvoicePaid {
      invoiceId: string;
      amount: number;
    }
    const invoice: InvoicePaid = { invoiceId: 'in_1', amount: 1 };
    // An interface-typed payload (no index signature) is accepted.
    expectTypeOf(h.messages.create).toBeCallableWith({
      tenantId: 'acme',
      eventType: 'invoice.paid',
      payload: invoice,
    });
    // `as const` arrays.
    const types = ['invoice.paid'] as const;
    expectTypeOf(h.endpoints.create).toBeCallableWith({
      tenantId: 'acme',
      url: 'https://a.example',
      eventTypes: types,
    });
    expectTypeOf(h.endpoints.recover).toBeCallableWith('ep_1', { since: new Date() });
  });

  it('refuse wire (snake_case) keys and unknown enum values', () => {
    // @ts-expect-error snake_case is the wire's spelling, not the SDK's
    h.endpoints.create({ tenant_id: 'acme', url: 'https://a.example' });
    // @ts-expect-error not an endpoint status
    h.endpoints.update('ep_1', { status: 'archived' });
    // @ts-expect-error a payload must be an object
    h.messages.create({ tenantId: 'a', eventType: 'a.b', payload: 'text' });
  });
});

describe('errors', () => {
  it('expose typed fields', () => {
    expectTypeOf<HooklineApiError['status']>().toEqualTypeOf<number>();
    expectTypeOf<HooklineApiError['code']>().toEqualTypeOf<HooklineApiErrorCode>();
    expectTypeOf<HooklineApiError['details']>().toEqualTypeOf<readonly ErrorDetail[]>();
    expectTypeOf<HooklineApiError['requestId']>().toEqualTypeOf<string | null>();
    expectTypeOf<HooklineConnectionError['code']>().toEqualTypeOf<'connection_error' | 'timeout'>();
    expectTypeOf<HooklineTimeoutError['code']>().toEqualTypeOf<'timeout'>();
    expectTypeOf<'not_found'>().toMatchTypeOf<HooklineApiErrorCode>();
  });
});
