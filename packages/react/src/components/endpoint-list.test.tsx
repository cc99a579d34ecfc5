import { screen, within } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { errorResponse, GATEWAY, makeEndpoint } from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { EndpointList } from './endpoint-list';

describe('EndpointList', () => {
  it('shows each endpoint with status, full URL on hover, event summary, 24 h count and health', async () => {
    const long = `https://receiver.example.com/${'very-long-path/'.repeat(8)}hooks`;
    const first = makeEndpoint({
      url: long,
      event_types: ['invoice.paid', 'invoice.failed', 'customer.created'],
    });
    const second = makeEndpoint({ status: 'paused', url: 'https://b.example.com/in' });
    gateway.endpoints.push(first, second);
    gateway.stats.set(first.id, {
      window: '24h',
      succeeded: 40,
      failed: 1,
      pending: 2,
      dead: 0,
      success_rate: 0.97,
      latency_ms_p50: 40,
      latency_ms_p95: 90,
      health: 'yellow',
    });

    renderWithGateway(<EndpointList />);

    const rows = await screen.findAllByRole('row');
    expect(rows).toHaveLength(3);
    const firstRow = within(rows[1]!);
    expect(firstRow.getByText('Active')).toBeInTheDocument();
    expect(firstRow.getByText(long)).toHaveAttribute('title', long);
    expect(firstRow.getByText('invoice.paid +2 more')).toBeInTheDocument();
    expect(await firstRow.findByText('43 deliveries')).toBeInTheDocument();
    expect(firstRow.getByText('Some failures')).toBeInTheDocument();
    const secondRow = within(rows[2]!);
    expect(secondRow.getByText('Paused')).toBeInTheDocument();
    expect(secondRow.getByText('All events')).toBeInTheDocument();
    expect(await secondRow.findByText('0 deliveries')).toBeInTheDocument();
    expect(secondRow.getByText('Healthy')).toBeInTheDocument();
  });

  it('shows an empty state when the tenant has no endpoint', async () => {
    renderWithGateway(<EndpointList onCreate={() => {}} />);
    expect(await screen.findByText('No endpoints yet.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Add endpoint' })).toBeInTheDocument();
  });

  it('shows a loading state, then the error with a retry that recovers', async () => {
    let failing = true;
    server.use(
      http.get(`${GATEWAY}/v1/endpoints`, () =>
        failing ? errorResponse(500, 'internal_error', 'Internal server error.') : undefined,
      ),
    );
    const { user } = renderWithGateway(<EndpointList />);
    expect(screen.getByText('Loading endpoints…')).toBeInTheDocument();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load the endpoints. Internal server error.');
    expect(alert).toHaveTextContent('request req_test');

    failing = false;
    gateway.endpoints.push(makeEndpoint({ url: 'https://back.example.com/hook' }));
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('https://back.example.com/hook')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('says the stats are unavailable when they fail, without hiding the endpoint', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    server.use(
      http.get(`${GATEWAY}/v1/endpoints/:id/stats`, () =>
        errorResponse(500, 'internal_error', 'Internal server error.'),
      ),
    );
    renderWithGateway(<EndpointList />);
    expect(await screen.findByText('unavailable')).toBeInTheDocument();
    expect(screen.getByText('Health unknown')).toBeInTheDocument();
  });

  it('calls onSelect with the endpoint when its URL is chosen, and onCreate from the button', async () => {
    const endpoint = makeEndpoint({ url: 'https://pick.example.com/me' });
    gateway.endpoints.push(endpoint);
    const onSelect = vi.fn();
    const onCreate = vi.fn();
    const { user } = renderWithGateway(<EndpointList onSelect={onSelect} onCreate={onCreate} />);
    await user.click(await screen.findByRole('button', { name: 'https://pick.example.com/me' }));
    expect(onSelect).toHaveBeenCalledWith(endpoint);
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(onCreate).toHaveBeenCalledOnce();
  });

  it('pages through endpoints with the cursor the gateway returns', async () => {
    for (let i = 0; i < 3; i++)
      gateway.endpoints.push(makeEndpoint({ url: `https://e${i}.example.com/` }));
    const { user } = renderWithGateway(<EndpointList pageSize={2} />);
    expect(await screen.findByText('https://e0.example.com/')).toBeInTheDocument();
    expect(screen.queryByText('https://e2.example.com/')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Newer' })).toBeDisabled();

    await user.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText('https://e2.example.com/')).toBeInTheDocument();
    expect(screen.queryByText('https://e0.example.com/')).not.toBeInTheDocument();
    const listCalls = gateway.requests.filter((r) => r.path === '/v1/endpoints');
    expect(listCalls.at(-1)?.query).toEqual({ limit: '2', cursor: '2' });

    await user.click(screen.getByRole('button', { name: 'Newer' }));
    expect(await screen.findByText('https://e0.example.com/')).toBeInTheDocument();
  });

  it('sends the portal token as a bearer token', async () => {
    renderWithGateway(<EndpointList />);
    await screen.findByText('No endpoints yet.');
    expect(gateway.requests[0]?.authorization).toBe('Bearer hl_pt_test_token');
  });
});
