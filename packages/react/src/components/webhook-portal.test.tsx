import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { makeDelivery, makeEndpoint, makeEventType } from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway } from '../../test/setup';
import { WebhookPortal } from './webhook-portal';

describe('WebhookPortal', () => {
  it('creates an endpoint, lands on it with the secret shown once, and goes back to the list', async () => {
    gateway.eventTypes.push(makeEventType('invoice.paid', 'Paid'));
    const onViewChange = vi.fn();
    const { user } = renderWithGateway(
      <WebhookPortal refreshInterval={0} onViewChange={onViewChange} />,
    );
    expect(await screen.findByRole('heading', { level: 1, name: 'Webhooks' })).toBeInTheDocument();
    expect(await screen.findByText('No endpoints yet.')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    const heading = await screen.findByRole('heading', { name: 'Add endpoint' });
    await waitFor(() => expect(heading).toHaveFocus());
    await user.type(screen.getByLabelText('Endpoint URL'), 'https://receiver.example.com/in');
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));

    expect(
      await screen.findByRole('heading', { name: 'https://receiver.example.com/in' }),
    ).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Your signing secret' })).toHaveTextContent(
      /whsec_MfKQ9r8G/,
    );
    expect(onViewChange).toHaveBeenLastCalledWith({
      name: 'endpoint',
      endpointId: gateway.endpoints[0]!.id,
    });

    await user.click(screen.getByRole('button', { name: '← All endpoints' }));
    expect(
      await screen.findByRole('button', { name: 'https://receiver.example.com/in' }),
    ).toBeInTheDocument();
    // Once left, the secret is gone for good.
    await user.click(screen.getByRole('button', { name: 'https://receiver.example.com/in' }));
    await screen.findByRole('heading', { name: 'Signing secret' });
    expect(screen.queryByText(/whsec_MfKQ9r8G/)).not.toBeInTheDocument();
  });

  it('moves between sections with the navigation and marks the current one', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const delivery = makeDelivery(endpoint, { event_type: 'order.shipped' });
    gateway.deliveries.push(delivery);
    const { user } = renderWithGateway(<WebhookPortal refreshInterval={0} />);
    const nav = await screen.findByRole('navigation', { name: 'Webhook portal' });
    expect(screen.getByRole('button', { name: 'Endpoints' })).toHaveAttribute(
      'aria-current',
      'page',
    );

    await user.click(screen.getByRole('button', { name: 'Delivery log' }));
    expect(screen.getByRole('button', { name: 'Delivery log' })).toHaveAttribute(
      'aria-current',
      'page',
    );
    await user.click(
      await screen.findByRole('button', {
        name: `View details of order.shipped delivery ${delivery.id}`,
      }),
    );
    expect(
      await screen.findByRole('heading', { name: 'Delivery order.shipped' }),
    ).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: '← Back' }));
    expect(await screen.findByRole('heading', { name: 'Deliveries' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Alerts' }));
    expect(await screen.findByRole('heading', { name: 'Alerts' })).toBeInTheDocument();
    expect(nav).toBeInTheDocument();
  });

  it('opens a delivery from an endpoint and returns to that endpoint', async () => {
    const endpoint = makeEndpoint({ url: 'https://one.example.com/' });
    gateway.endpoints.push(endpoint);
    const delivery = makeDelivery(endpoint);
    gateway.deliveries.push(delivery);
    const { user } = renderWithGateway(
      <WebhookPortal
        refreshInterval={0}
        initialView={{ name: 'endpoint', endpointId: endpoint.id }}
      />,
    );
    await user.click(
      await screen.findByRole('button', {
        name: `View details of invoice.paid delivery ${delivery.id}`,
      }),
    );
    await user.click(await screen.findByRole('button', { name: '← Back' }));
    expect(
      await screen.findByRole('heading', { name: 'https://one.example.com/' }),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Endpoints' })).toHaveAttribute(
      'aria-current',
      'page',
    );
  });

  it('tells the user when the link has expired', async () => {
    gateway.tokenValid = false;
    renderWithGateway(<WebhookPortal refreshInterval={0} />);
    expect(
      await screen.findByRole('heading', { name: 'This link has expired' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('navigation')).not.toBeInTheDocument();
  });

  it('applies the provider theme to its root for the stylesheet', async () => {
    const { container } = renderWithGateway(<WebhookPortal refreshInterval={0} />, {
      theme: 'dark',
    });
    await screen.findByText('No endpoints yet.');
    const root = container.querySelector('.hl-portal');
    expect(root).toHaveAttribute('data-hl-theme', 'dark');
    expect(root).toHaveClass('hl-root');
  });
});
