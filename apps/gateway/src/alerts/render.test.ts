import { describe, expect, it } from 'vitest';
import {
  type AlertView,
  displayUrl,
  foldedLine,
  humanDuration,
  operationalWebhookBody,
  renderEmail,
  renderSlack,
} from './render';

const HOUR = 60 * 60 * 1000;
const at = new Date('2030-05-01T10:00:00.000Z');

function view(overrides: Partial<AlertView> = {}): AlertView {
  return {
    type: 'delivery.dead',
    tenantId: 'acme',
    endpointId: 'ep_01abc',
    endpointUrl: 'https://hooks.acme.example/in',
    eventId: 'evt_01last',
    deliveryId: 'dlv_01d',
    messageId: 'msg_01m',
    data: {
      attempt_count: 5,
      http_status: 502,
      outcome: 'http_5xx',
      error: 'Bad gateway',
      event_type: 'invoice.paid',
    },
    eventCount: 1,
    firstAt: at,
    lastAt: at,
    intervalMs: HOUR,
    ...overrides,
  };
}

describe('alert rendering', () => {
  it('shows an endpoint URL without its query, credentials or fragment', () => {
    expect(displayUrl('https://user:pw@hooks.example/a/b?token=s3cret#frag')).toBe(
      'https://hooks.example/a/b?…',
    );
    expect(displayUrl('https://hooks.example:8443/x')).toBe('https://hooks.example:8443/x');
    expect(displayUrl('not a url')).toBe('(unparseable URL)');
  });

  it('says how long in words', () => {
    expect(humanDuration(0)).toBe('1 second');
    expect(humanDuration(45_000)).toBe('45 seconds');
    expect(humanDuration(58 * 60_000)).toBe('58 minutes');
    expect(humanDuration(HOUR)).toBe('1 hour');
    expect(humanDuration(3 * 24 * HOUR)).toBe('3 days');
  });

  it('folds the suppressed count into one sentence, and says nothing for a single event', () => {
    expect(foldedLine(view())).toBeNull();
    expect(
      foldedLine(view({ eventCount: 13, firstAt: new Date(at.getTime() - 58 * 60_000) })),
    ).toBe(
      '12 more deliveries to https://hooks.acme.example/in died in the last 58 minutes (alerts for this endpoint are sent at most once per 1 hour).',
    );
    expect(
      foldedLine(
        view({
          type: 'endpoint.disabled',
          eventCount: 3,
          firstAt: new Date(at.getTime() - 2 * HOUR),
        }),
      ),
    ).toContain('disabled 3 times in the last 2 hours');
  });

  it('builds the operational webhook body like a delivery: type, timestamp and data', () => {
    const body = JSON.parse(
      operationalWebhookBody(view({ eventCount: 4, firstAt: new Date(at.getTime() - 1000) })),
    );
    expect(body).toEqual({
      type: 'delivery.dead',
      timestamp: '2030-05-01T10:00:00.000Z',
      data: {
        attempt_count: 5,
        http_status: 502,
        outcome: 'http_5xx',
        error: 'Bad gateway',
        event_type: 'invoice.paid',
        tenant_id: 'acme',
        endpoint_id: 'ep_01abc',
        endpoint_url: 'https://hooks.acme.example/in',
        delivery_id: 'dlv_01d',
        message_id: 'msg_01m',
        event_count: 4,
        first_event_at: '2030-05-01T09:59:59.000Z',
      },
    });
  });

  it('writes an email naming the event, endpoint, last status, error, attempts and the portal link', () => {
    const email = renderEmail(view(), {
      url: 'https://gw.example/portal#token=hl_pt_x&tenant_id=acme&endpoint_id=ep_01abc',
      expiresAt: new Date('2030-05-08T10:00:00.000Z'),
    });
    expect(email.subject).toBe(
      '[Hookline] Webhook delivery failed permanently to hooks.acme.example',
    );
    for (const part of [
      'invoice.paid',
      'https://hooks.acme.example/in',
      'HTTP 502',
      'Bad gateway',
      'dlv_01d',
    ]) {
      expect(email.text).toContain(part);
      expect(email.html).toContain(part);
    }
    expect(email.text).toMatch(/Attempts:\s+5\n/);
    expect(email.text).toContain('Replay it from the portal');
    expect(email.text).toContain(
      'https://gw.example/portal#token=hl_pt_x&tenant_id=acme&endpoint_id=ep_01abc',
    );
    expect(email.html).toContain(
      'href="https://gw.example/portal#token=hl_pt_x&amp;tenant_id=acme&amp;endpoint_id=ep_01abc"',
    );
  });

  it('escapes what it puts into HTML and Slack markup', () => {
    const hostile = view({
      data: { error: '<script>alert(1)</script> & <@channel>', outcome: 'network_error' },
    });
    const email = renderEmail(hostile, null);
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;');
    expect(email.text).toContain('no HTTP response (network error)');
    const slack = JSON.stringify(renderSlack(hostile));
    expect(slack).not.toContain('<@channel>');
    expect(slack).toContain('&lt;@channel&gt;');
  });

  it('describes disables and recoveries in their own words', () => {
    const gone = renderEmail(
      view({ type: 'endpoint.disabled', data: { reason: 'gone', http_status: 410 } }),
      null,
    );
    expect(gone.subject).toBe('[Hookline] Webhook endpoint disabled: hooks.acme.example');
    expect(gone.text).toContain('answered 410 Gone and was disabled');
    const failing = renderEmail(
      view({
        type: 'endpoint.disabled',
        data: { reason: 'failing', failing_since: '2030-04-26T10:00:00Z' },
      }),
      null,
    );
    expect(failing.text).toContain('failed every delivery since 2030-04-26T10:00:00Z');
    const recovered = renderSlack(
      view({ type: 'endpoint.recovered', data: { failing_since: '2030-05-01T08:00:00Z' } }),
    );
    expect(recovered.text).toContain('Webhook endpoint recovered: hooks.acme.example');
    expect(recovered.text).toContain('after failing since 2030-05-01T08:00:00Z');
  });

  it('names a deleted endpoint by its id', () => {
    const email = renderEmail(view({ endpointUrl: null }), null);
    expect(email.subject).toBe('[Hookline] Webhook delivery failed permanently to ep_01abc');
    expect(email.text).toContain('endpoint ep_01abc (deleted)');
  });

  it('keeps Slack blocks within Slack limits', () => {
    const long = renderSlack(view({ data: { error: 'x'.repeat(10_000) } }));
    for (const block of long.blocks) {
      const fields = (block.fields as { text: string }[] | undefined) ?? [];
      for (const field of fields) expect(field.text.length).toBeLessThanOrEqual(2000);
      expect(fields.length).toBeLessThanOrEqual(10);
    }
    expect(long.text.length).toBeLessThanOrEqual(3000);
  });
});
