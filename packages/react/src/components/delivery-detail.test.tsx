import { screen, waitFor, within } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import {
  errorResponse,
  GATEWAY,
  makeAttempt,
  makeDelivery,
  makeEndpoint,
} from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { DeliveryDetail } from './delivery-detail';

describe('DeliveryDetail', () => {
  it('shows every attempt, newest first and open, with request and response headers and bodies', async () => {
    const endpoint = makeEndpoint();
    const delivery = makeDelivery(endpoint, {
      status: 'succeeded',
      attempts: [
        makeAttempt({
          attempt_number: 1,
          outcome: 'http_5xx',
          http_status: 500,
          response_headers: { 'x-upstream': 'down' },
          response_body: 'upstream failed',
        }),
        makeAttempt({ attempt_number: 2, trigger: 'manual', response_body: '{"ok":true}' }),
      ],
    });
    gateway.deliveries.push(delivery);
    renderWithGateway(<DeliveryDetail deliveryId={delivery.id} />);

    expect(
      await screen.findByRole('heading', { name: 'Delivery invoice.paid' }),
    ).toBeInTheDocument();
    expect(screen.getByText(delivery.message_id)).toBeInTheDocument();
    const attempts = screen.getAllByRole('listitem');
    expect(attempts).toHaveLength(2);
    const newest = within(attempts[0]!);
    expect(
      newest.getByText(/Attempt 2 \(manual\) · HTTP 200 · Success · 42 ms/),
    ).toBeInTheDocument();
    expect(attempts[0]!.querySelector('details')).toHaveAttribute('open');
    expect(attempts[1]!.querySelector('details')).not.toHaveAttribute('open');
    const requestHeaders = newest.getByRole('table', { name: 'Request headers' });
    expect(within(requestHeaders).getByText('webhook-id')).toBeInTheDocument();
    expect(within(requestHeaders).getByText('v1,c2lnbmF0dXJl')).toBeInTheDocument();
    expect(newest.getByText(/"type": "invoice.paid"/)).toBeInTheDocument();
    expect(newest.getByText(/"ok": true/)).toBeInTheDocument();
    const oldest = within(attempts[1]!);
    expect(
      within(oldest.getByRole('table', { name: 'Response headers' })).getByText('down'),
    ).toBeInTheDocument();
    expect(oldest.getByText('upstream failed')).toBeInTheDocument();
  });

  it('explains an attempt without a response and marks cut bodies', async () => {
    const endpoint = makeEndpoint();
    const delivery = makeDelivery(endpoint, {
      status: 'failed',
      attempts: [
        makeAttempt({
          outcome: 'network_error',
          http_status: null,
          error: 'getaddrinfo ENOTFOUND receiver.example.com',
          response_headers: null,
          response_body: null,
          request_body_truncated: true,
        }),
      ],
    });
    gateway.deliveries.push(delivery);
    renderWithGateway(<DeliveryDetail deliveryId={delivery.id} />);
    expect(
      await screen.findByText('getaddrinfo ENOTFOUND receiver.example.com'),
    ).toBeInTheDocument();
    expect(screen.getAllByText('No response was received.')).toHaveLength(2);
    expect(screen.getByText('Cut at 64 KiB.')).toBeInTheDocument();
  });

  it('replays with a prominent button and follows the new attempt', async () => {
    const endpoint = makeEndpoint();
    const delivery = makeDelivery(endpoint, { status: 'dead' });
    gateway.deliveries.push(delivery);
    const { user } = renderWithGateway(<DeliveryDetail deliveryId={delivery.id} />);
    const replay = await screen.findByRole('button', { name: 'Replay' });
    expect(replay).toHaveClass('hl-button-primary');
    await user.click(replay);
    expect(
      await screen.findByText(/Replay queued: a new attempt goes out now with/),
    ).toBeInTheDocument();
    // The fake gateway records the new attempt; the detail picks it up while it watches.
    gateway.deliveries[0]!.attempts.push(makeAttempt({ attempt_number: 2, trigger: 'manual' }));
    gateway.deliveries[0]!.status = 'succeeded';
    gateway.deliveries[0]!.attempt_count = 2;
    await waitFor(() => expect(screen.getByText(/Attempt 2 \(manual\)/)).toBeInTheDocument(), {
      timeout: 5000,
    });
  });

  it('says when a delivery has no attempt yet', async () => {
    const endpoint = makeEndpoint({ status: 'paused' });
    const held = makeDelivery(endpoint, { status: 'held', attempts: [] });
    gateway.deliveries.push(held);
    renderWithGateway(<DeliveryDetail deliveryId={held.id} />);
    expect(await screen.findByText('No attempt yet.')).toBeInTheDocument();
    expect(screen.getByText('Held (paused)')).toBeInTheDocument();
  });

  it('says a delivery out of reach does not exist, and goes back', async () => {
    const onBack = vi.fn();
    const { user } = renderWithGateway(
      <DeliveryDetail deliveryId="dlv_other_tenant" onBack={onBack} />,
    );
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('This delivery does not exist.');
    expect(within(alert).queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: '← Back' }));
    expect(onBack).toHaveBeenCalledOnce();
  });

  it('offers a retry for other load errors', async () => {
    server.use(
      http.get(`${GATEWAY}/v1/deliveries/:id`, () => errorResponse(503, 'not_ready', 'Starting.')),
    );
    renderWithGateway(<DeliveryDetail deliveryId="dlv_1" />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load the delivery. Starting.');
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
