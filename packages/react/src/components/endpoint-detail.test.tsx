import { screen, waitFor, within } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { errorResponse, GATEWAY, makeDelivery, makeEndpoint } from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { EndpointDetail } from './endpoint-detail';

describe('EndpointDetail', () => {
  it('shows the settings, 24 h stats, test event, secret hint and delivery log', async () => {
    const endpoint = makeEndpoint({
      url: 'https://billing.example.com/hooks',
      description: 'Billing events',
      event_types: ['invoice.paid', 'invoice.failed'],
      rate_limit_per_minute: 600,
      retry_schedule: [30, 300],
      headers: { Authorization: 'Bearer secret-proxy-token' },
    });
    gateway.endpoints.push(endpoint);
    gateway.deliveries.push(makeDelivery(endpoint));
    gateway.stats.set(endpoint.id, {
      window: '24h',
      succeeded: 9,
      failed: 1,
      pending: 0,
      dead: 0,
      success_rate: 0.9,
      latency_ms_p50: 35,
      latency_ms_p95: 240,
      health: 'yellow',
    });
    renderWithGateway(<EndpointDetail endpointId={endpoint.id} refreshInterval={0} />);

    expect(
      await screen.findByRole('heading', { name: 'https://billing.example.com/hooks' }),
    ).toBeInTheDocument();
    expect(screen.getByText('Billing events')).toBeInTheDocument();
    expect(screen.getByText('600 per minute')).toBeInTheDocument();
    expect(screen.getByText('30 s, 5 min')).toBeInTheDocument();
    // Custom header values may be credentials: only their names show.
    expect(screen.getByText('Authorization')).toBeInTheDocument();
    expect(screen.queryByText(/secret-proxy-token/)).not.toBeInTheDocument();
    expect(await screen.findByText('90%')).toBeInTheDocument();
    expect(screen.getByText('35 ms / 240 ms')).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Send a test event' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Signing secret' })).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'Recent deliveries' })).toBeInTheDocument();
    expect(await screen.findByText('invoice.paid', { selector: 'td code' })).toBeInTheDocument();
  });

  it('pauses and resumes the endpoint', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { user } = renderWithGateway(
      <EndpointDetail endpointId={endpoint.id} refreshInterval={0} />,
    );
    await user.click(await screen.findByRole('button', { name: 'Pause' }));
    expect(await screen.findByText(/This endpoint is paused/)).toBeInTheDocument();
    expect(screen.getByText('Paused', { selector: '.hl-badge' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Resume' }));
    expect(await screen.findByText('Active', { selector: '.hl-badge' })).toBeInTheDocument();
    expect(
      screen.getByText('Endpoint resumed: held webhooks are going out now.'),
    ).toBeInTheDocument();
    expect(gateway.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      { status: 'paused' },
      { status: 'active' },
    ]);
  });

  it('explains why a disabled endpoint is disabled and offers to enable it', async () => {
    const endpoint = makeEndpoint({ status: 'disabled', disabled_reason: 'gone' });
    gateway.endpoints.push(endpoint);
    renderWithGateway(<EndpointDetail endpointId={endpoint.id} refreshInterval={0} />);
    expect(await screen.findByText(/It answered 410 Gone/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Enable' })).toBeInTheDocument();
  });

  it('deletes only after a confirmation', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const onDeleted = vi.fn();
    const { user } = renderWithGateway(
      <EndpointDetail endpointId={endpoint.id} onDeleted={onDeleted} refreshInterval={0} />,
    );
    await user.click(await screen.findByRole('button', { name: 'Delete…' }));
    const confirm = screen.getByRole('group', { name: 'Delete this endpoint?' });
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(gateway.requests.some((r) => r.method === 'DELETE')).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    await user.click(screen.getByRole('button', { name: 'Delete endpoint' }));
    await waitFor(() => expect(onDeleted).toHaveBeenCalledOnce());
    expect(gateway.endpoints).toHaveLength(0);
  });

  it('edits in place and shows the saved values', async () => {
    const endpoint = makeEndpoint({ description: '' });
    gateway.endpoints.push(endpoint);
    const { user } = renderWithGateway(
      <EndpointDetail endpointId={endpoint.id} refreshInterval={0} />,
    );
    await user.click(await screen.findByRole('button', { name: 'Edit' }));
    await user.type(screen.getByLabelText('Description (optional)'), 'Now described');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Now described')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Save changes' })).not.toBeInTheDocument();
  });

  it('shows a failed pause as an error', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    server.use(
      http.patch(`${GATEWAY}/v1/endpoints/:id`, () =>
        errorResponse(500, 'internal_error', 'Internal server error.'),
      ),
    );
    const { user } = renderWithGateway(
      <EndpointDetail endpointId={endpoint.id} refreshInterval={0} />,
    );
    await user.click(await screen.findByRole('button', { name: 'Pause' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'That did not work. Internal server error.',
    );
  });

  it('says an endpoint out of reach does not exist', async () => {
    renderWithGateway(<EndpointDetail endpointId="ep_elsewhere" refreshInterval={0} />);
    expect(await screen.findByRole('alert')).toHaveTextContent('This endpoint does not exist.');
  });
});
