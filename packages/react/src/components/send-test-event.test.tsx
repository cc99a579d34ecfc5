import { screen, within } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  errorResponse,
  GATEWAY,
  makeAttempt,
  makeEndpoint,
  makeEventType,
} from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { SendTestEvent } from './send-test-event';

describe('SendTestEvent', () => {
  it('sends the default test event and shows status, latency and response body inline', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    gateway.testAttempt = makeAttempt({
      trigger: 'test',
      http_status: 200,
      latency_ms: 87,
      response_body: '{"received":true}',
    });
    const { user } = renderWithGateway(<SendTestEvent endpointId={endpoint.id} />);
    await user.click(screen.getByRole('button', { name: 'Send test event' }));
    const result = await screen.findByText('HTTP 200 · Success · 87 ms');
    const card = result.closest('.hl-result-card') as HTMLElement;
    expect(within(card).getByText('Delivered')).toBeInTheDocument();
    expect(within(card).getByText(/"received": true/)).toBeInTheDocument();
    expect(gateway.requests.find((r) => r.method === 'POST')?.body).toEqual({});
    expect(
      await screen.findByText('Test event sent: HTTP 200 · Success · 87 ms.'),
    ).toBeInTheDocument();
  });

  it('shows a failing answer just the same, with its body', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    gateway.testAttempt = makeAttempt({
      trigger: 'test',
      outcome: 'http_5xx',
      http_status: 503,
      latency_ms: 12,
      response_body: 'maintenance',
    });
    const { user } = renderWithGateway(<SendTestEvent endpointId={endpoint.id} />);
    await user.click(screen.getByRole('button', { name: 'Send test event' }));
    expect(await screen.findByText('HTTP 503 · Server error (5xx) · 12 ms')).toBeInTheDocument();
    expect(screen.getByText('Failed')).toBeInTheDocument();
    expect(screen.getByText('maintenance')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('explains an attempt that got no response', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    gateway.testAttempt = makeAttempt({
      trigger: 'test',
      outcome: 'network_error',
      http_status: null,
      latency_ms: 3,
      error: 'connect ECONNREFUSED 203.0.113.9:443',
      response_headers: null,
      response_body: null,
    });
    const { user } = renderWithGateway(<SendTestEvent endpointId={endpoint.id} />);
    await user.click(screen.getByRole('button', { name: 'Send test event' }));
    expect(await screen.findByText('No response · Network error · 3 ms')).toBeInTheDocument();
    expect(screen.getByText('connect ECONNREFUSED 203.0.113.9:443')).toBeInTheDocument();
    expect(screen.queryByText('Response body')).not.toBeInTheDocument();
  });

  it("offers only the endpoint's event types and sends the catalog example", async () => {
    const endpoint = makeEndpoint({ event_types: ['invoice.paid'] });
    gateway.endpoints.push(endpoint);
    gateway.eventTypes.push(
      makeEventType('invoice.paid', 'Paid', { id: 'in_123', amount: 4200 }),
      makeEventType('customer.created'),
    );
    const { user } = renderWithGateway(
      <SendTestEvent endpointId={endpoint.id} eventTypes={endpoint.event_types} />,
    );
    const select = screen.getByLabelText('Event type');
    await screen.findByRole('option', { name: 'invoice.paid' });
    expect(
      within(select).queryByRole('option', { name: 'customer.created' }),
    ).not.toBeInTheDocument();
    await user.selectOptions(select, 'invoice.paid');
    await user.click(screen.getByRole('button', { name: 'Send test event' }));
    await screen.findByText('HTTP 200 · Success · 42 ms');
    expect(gateway.requests.find((r) => r.method === 'POST')?.body).toEqual({
      event_type: 'invoice.paid',
      payload: { id: 'in_123', amount: 4200 },
    });
  });

  it('shows the gateway refusing the test as an error', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    server.use(
      http.post(`${GATEWAY}/v1/endpoints/:id/test`, () =>
        errorResponse(409, 'endpoint_disabled', 'The endpoint is disabled.'),
      ),
    );
    const { user } = renderWithGateway(<SendTestEvent endpointId={endpoint.id} />);
    await user.click(screen.getByRole('button', { name: 'Send test event' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The test event was not sent. The endpoint is disabled.',
    );
  });

  it('says it is waiting while the endpoint takes its time', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.post(`${GATEWAY}/v1/endpoints/:id/test`, async () => {
        await gate;
        return HttpResponse.json(makeAttempt({ trigger: 'test' }));
      }),
    );
    const { user } = renderWithGateway(<SendTestEvent endpointId={endpoint.id} />);
    await user.click(screen.getByRole('button', { name: 'Send test event' }));
    expect(await screen.findByText(/waiting for the answer/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sending…' })).toBeDisabled();
    release();
    expect(await screen.findByText('HTTP 200 · Success · 42 ms')).toBeInTheDocument();
  });
});
