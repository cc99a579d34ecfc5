import { screen, waitFor, within } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import {
  errorResponse,
  GATEWAY,
  makeAttempt,
  makeDelivery,
  makeEndpoint,
  makeEventType,
} from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { DeliveryLog } from './delivery-log';

function seed() {
  const endpoint = makeEndpoint();
  gateway.endpoints.push(endpoint);
  const ok = makeDelivery(endpoint, { event_type: 'invoice.paid' });
  const failing = makeDelivery(endpoint, {
    event_type: 'customer.created',
    status: 'dead',
    attempts: [
      makeAttempt({ attempt_number: 1, outcome: 'http_5xx', http_status: 502, latency_ms: 1500 }),
      makeAttempt({
        attempt_number: 2,
        outcome: 'timeout',
        http_status: null,
        latency_ms: 15_000,
        error: 'timed out',
      }),
    ],
  });
  const test = makeDelivery(endpoint, { event_type: 'hookline.test', test: true });
  gateway.deliveries.push(ok, failing, test);
  gateway.eventTypes.push(makeEventType('invoice.paid'), makeEventType('customer.created'));
  return { endpoint, ok, failing, test };
}

describe('DeliveryLog', () => {
  it('lists event type, attempt, HTTP status, status and outcome, latency and time', async () => {
    const { failing } = seed();
    renderWithGateway(<DeliveryLog refreshInterval={0} />);
    const rows = await screen.findAllByRole('row');
    expect(rows).toHaveLength(4);
    const ok = within(rows[1]!);
    expect(ok.getByText('invoice.paid')).toBeInTheDocument();
    expect(ok.getByText('200')).toBeInTheDocument();
    expect(ok.getByText('Succeeded')).toBeInTheDocument();
    expect(ok.getByText('42 ms')).toBeInTheDocument();
    expect(ok.getByRole('button', { name: /^Replay invoice\.paid delivery/ })).toBeInTheDocument();
    const dead = within(rows[2]!);
    expect(dead.getByText('2')).toBeInTheDocument();
    expect(dead.getByText('Failed')).toBeInTheDocument();
    expect(dead.getByText('Timed out')).toBeInTheDocument();
    expect(dead.getByText('15.0 s')).toBeInTheDocument();
    expect(dead.getByText('—')).toBeInTheDocument();
    expect(dead.getByRole('time')).toHaveAttribute('datetime', failing.attempts[1]!.attempted_at);
    expect(within(rows[3]!).getByText('Test')).toBeInTheDocument();
  });

  it('filters by status and by event type through the query', async () => {
    seed();
    const { user } = renderWithGateway(<DeliveryLog refreshInterval={0} />);
    await screen.findAllByRole('row');
    await user.selectOptions(screen.getByLabelText('Status'), 'dead');
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(2));
    expect(gateway.requests.at(-1)?.query).toMatchObject({ status: 'dead' });
    await user.selectOptions(screen.getByLabelText('Event type'), 'invoice.paid');
    expect(await screen.findByText('No deliveries match these filters.')).toBeInTheDocument();
    expect(gateway.requests.at(-1)?.query).toMatchObject({
      status: 'dead',
      event_type: 'invoice.paid',
    });
  });

  it('scopes to one endpoint and shows an empty state', async () => {
    renderWithGateway(<DeliveryLog endpointId="ep_quiet" refreshInterval={0} />);
    expect(await screen.findByText('No deliveries yet.')).toBeInTheDocument();
    expect(gateway.requests.find((r) => r.path === '/v1/deliveries')?.query).toMatchObject({
      endpoint_id: 'ep_quiet',
    });
  });

  it('shows a load error with a retry', async () => {
    server.use(
      http.get(`${GATEWAY}/v1/deliveries`, () => errorResponse(500, 'internal_error', 'Log down.')),
    );
    renderWithGateway(<DeliveryLog refreshInterval={0} />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load the deliveries. Log down.');
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });

  it('pages to older deliveries and back', async () => {
    const endpoint = makeEndpoint();
    for (let i = 0; i < 3; i++)
      gateway.deliveries.push(makeDelivery(endpoint, { event_type: `page.e${i}` }));
    const { user } = renderWithGateway(<DeliveryLog pageSize={2} refreshInterval={0} />);
    expect(await screen.findByText('page.e0', { selector: 'code' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText('page.e2', { selector: 'code' })).toBeInTheDocument();
    expect(screen.queryByText('page.e0', { selector: 'code' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Newer' }));
    expect(await screen.findByText('page.e0', { selector: 'code' })).toBeInTheDocument();
  });

  it('replays a delivery and refreshes the row', async () => {
    const { failing } = seed();
    const { user } = renderWithGateway(<DeliveryLog refreshInterval={0} />);
    await user.click(
      await screen.findByRole('button', { name: `Replay customer.created delivery ${failing.id}` }),
    );
    expect(await screen.findByText(/Replay queued: a new attempt of/)).toBeInTheDocument();
    expect(
      gateway.requests.some(
        (r) => r.method === 'POST' && r.path === `/v1/deliveries/${failing.id}/replay`,
      ),
    ).toBe(true);
    // The log reloads after the replay: the row now says Pending.
    expect(await screen.findByText('Pending', { selector: '.hl-badge' })).toBeInTheDocument();
  });

  it('shows a failed replay as an error', async () => {
    const { ok } = seed();
    server.use(
      http.post(`${GATEWAY}/v1/deliveries/:id/replay`, () =>
        errorResponse(404, 'not_found', 'No delivery with that id.'),
      ),
    );
    const { user } = renderWithGateway(<DeliveryLog refreshInterval={0} />);
    await user.click(
      await screen.findByRole('button', { name: `Replay invoice.paid delivery ${ok.id}` }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The replay was not queued. No delivery with that id.',
    );
  });

  it('recovers failures since a time for one endpoint', async () => {
    const { endpoint } = seed();
    const { user } = renderWithGateway(
      <DeliveryLog endpointId={endpoint.id} refreshInterval={0} />,
    );
    await screen.findAllByRole('row');
    await user.click(screen.getByRole('button', { name: 'Recover failed since…' }));
    const since = screen.getByLabelText('Replay every failed delivery since');
    expect((since as HTMLInputElement).value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    await user.clear(since);
    await user.type(since, '2025-01-01T00:00');
    await user.click(screen.getByRole('button', { name: 'Replay failed deliveries' }));
    expect(await screen.findByText('Queued 1 failed delivery for replay.')).toBeInTheDocument();
    const body = gateway.requests.find((r) => r.path.endsWith('/recover'))?.body as {
      since: string;
    };
    expect(new Date(body.since).getTime()).toBe(new Date('2025-01-01T00:00').getTime());
  });

  it('refuses a recovery time in the future', async () => {
    const { endpoint } = seed();
    const { user } = renderWithGateway(
      <DeliveryLog endpointId={endpoint.id} refreshInterval={0} />,
    );
    await user.click(await screen.findByRole('button', { name: 'Recover failed since…' }));
    const since = screen.getByLabelText('Replay every failed delivery since');
    await user.clear(since);
    await user.type(since, '2999-01-01T00:00');
    await user.click(screen.getByRole('button', { name: 'Replay failed deliveries' }));
    expect(since).toHaveAccessibleDescription('Choose a time in the past.');
    expect(gateway.requests.some((r) => r.path.endsWith('/recover'))).toBe(false);
  });

  it('refreshes on its own while auto-refresh is on, and stops when it is turned off', async () => {
    seed();
    const { user } = renderWithGateway(<DeliveryLog refreshInterval={60} />);
    await screen.findAllByRole('row');
    const lists = () => gateway.requests.filter((r) => r.path === '/v1/deliveries').length;
    await waitFor(() => expect(lists()).toBeGreaterThanOrEqual(3));
    await user.click(screen.getByRole('checkbox', { name: 'Auto-refresh' }));
    const after = lists();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(lists()).toBe(after);
  });

  it('opens the details in place, or hands them to onViewDelivery', async () => {
    const { ok } = seed();
    const { user, unmount } = renderWithGateway(<DeliveryLog refreshInterval={0} />);
    await user.click(
      await screen.findByRole('button', { name: `View details of invoice.paid delivery ${ok.id}` }),
    );
    expect(
      await screen.findByRole('heading', { name: 'Delivery invoice.paid' }),
    ).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: '← Back' }));
    expect(await screen.findByRole('heading', { name: 'Deliveries' })).toBeInTheDocument();
    unmount();

    const onViewDelivery = vi.fn();
    const second = renderWithGateway(
      <DeliveryLog refreshInterval={0} onViewDelivery={onViewDelivery} />,
    );
    await second.user.click(
      await screen.findByRole('button', { name: `View details of invoice.paid delivery ${ok.id}` }),
    );
    expect(onViewDelivery).toHaveBeenCalledWith(ok.id);
  });
});
