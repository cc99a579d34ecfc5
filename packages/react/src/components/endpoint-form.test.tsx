import { screen, waitFor, within } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { errorResponse, GATEWAY, makeEndpoint, makeEventType } from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { EndpointForm } from './endpoint-form';

function seedCatalog() {
  gateway.eventTypes.push(
    makeEventType('invoice.paid', 'An invoice was paid in full.'),
    makeEventType('invoice.failed', 'A payment attempt failed.'),
    makeEventType('customer.created'),
  );
}

describe('EndpointForm', () => {
  it('refuses a non-https URL before calling the gateway, on the URL field', async () => {
    const { user } = renderWithGateway(<EndpointForm />);
    const url = await screen.findByLabelText('Endpoint URL');
    await user.type(url, 'http://plain.example.com/hook');
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));
    expect(url).toHaveAttribute('aria-invalid', 'true');
    expect(url).toHaveAccessibleDescription(/The URL must start with https:\/\//);
    expect(url).toHaveFocus();
    expect(gateway.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('accepts http URLs when the provider says the gateway allows them', async () => {
    const { user } = renderWithGateway(<EndpointForm onSaved={() => {}} />, { allowHttp: true });
    await user.type(await screen.findByLabelText('Endpoint URL'), 'http://plain.example.com/hook');
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));
    // The fake gateway refuses http itself: the refusal lands on the URL field.
    await waitFor(() =>
      expect(screen.getByLabelText('Endpoint URL')).toHaveAccessibleDescription(
        /The URL must use https:\/\/\./,
      ),
    );
    expect(screen.getByRole('alert')).toHaveTextContent('Please correct the fields marked below.');
  });

  it('offers the catalog as checkboxes with descriptions and a select-all', async () => {
    seedCatalog();
    const { user } = renderWithGateway(<EndpointForm />);
    const paid = await screen.findByRole('checkbox', { name: 'invoice.paid' });
    expect(paid).toHaveAccessibleDescription('An invoice was paid in full.');
    const all = screen.getByRole('checkbox', { name: 'Select all' });
    await user.click(all);
    for (const name of ['customer.created', 'invoice.failed', 'invoice.paid']) {
      expect(screen.getByRole('checkbox', { name })).toBeChecked();
    }
    await user.click(paid);
    expect(all).not.toBeChecked();
    expect((all as HTMLInputElement).indeterminate).toBe(true);
    await user.click(all);
    expect(paid).toBeChecked();
    await user.click(all);
    expect(paid).not.toBeChecked();
  });

  it('says an empty catalog means every event', async () => {
    renderWithGateway(<EndpointForm />);
    expect(await screen.findByText(/No event types are listed/)).toBeInTheDocument();
  });

  it('creates an endpoint with every field and hands over the secret once', async () => {
    seedCatalog();
    const onSaved = vi.fn();
    const { user } = renderWithGateway(<EndpointForm onSaved={onSaved} />);
    await user.type(
      await screen.findByLabelText('Endpoint URL'),
      'https://receiver.example.com/in',
    );
    await user.type(screen.getByLabelText('Description (optional)'), 'Billing');
    await user.click(await screen.findByRole('checkbox', { name: 'invoice.paid' }));
    await user.click(screen.getByRole('button', { name: 'Add header' }));
    await user.type(screen.getByLabelText('Header 1 name'), 'X-Env');
    await user.type(screen.getByLabelText('Header 1 value'), 'prod');
    await user.type(screen.getByLabelText('Rate limit (deliveries per minute, optional)'), '120');
    await user.selectOptions(screen.getByLabelText('Retry schedule'), 'quick');
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));

    await waitFor(() => expect(onSaved).toHaveBeenCalledOnce());
    expect(gateway.requests.find((r) => r.method === 'POST')?.body).toEqual({
      tenant_id: 'acme',
      url: 'https://receiver.example.com/in',
      description: 'Billing',
      event_types: ['invoice.paid'],
      rate_limit_per_minute: 120,
      headers: { 'X-Env': 'prod' },
      retry_schedule: [5, 30, 120, 600],
    });
    const [endpoint, revealed] = onSaved.mock.calls[0]!;
    expect(endpoint).not.toHaveProperty('secret');
    expect(revealed).toMatchObject({ reason: 'created', secret: expect.stringMatching(/^whsec_/) });
  });

  it('shows the secret itself after creation when nobody takes it', async () => {
    const { user } = renderWithGateway(<EndpointForm />);
    await user.type(
      await screen.findByLabelText('Endpoint URL'),
      'https://receiver.example.com/in',
    );
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));
    expect(await screen.findByRole('heading', { name: 'Endpoint created' })).toBeInTheDocument();
    expect(screen.getByText('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByText(/whsec_MfKQ/)).not.toBeInTheDocument();
    expect(screen.getByLabelText('Endpoint URL')).toHaveValue('');
  });

  it("puts the gateway's field errors on the fields they name, headers on their row", async () => {
    server.use(
      http.post(`${GATEWAY}/v1/endpoints`, () =>
        errorResponse(400, 'invalid_request', 'Invalid request body.', [
          { path: 'headers["X-Hookline-Id"]', message: 'is a reserved header name' },
          { path: 'retry_schedule[1]', message: 'must be at most 86400 seconds (24 h)' },
        ]),
      ),
    );
    const { user } = renderWithGateway(<EndpointForm />);
    await user.type(
      await screen.findByLabelText('Endpoint URL'),
      'https://receiver.example.com/in',
    );
    await user.click(screen.getByRole('button', { name: 'Add header' }));
    await user.type(screen.getByLabelText('Header 1 name'), 'X-Hookline-Id');
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));

    const headerName = screen.getByLabelText('Header 1 name');
    await waitFor(() => expect(headerName).toHaveAttribute('aria-invalid', 'true'));
    expect(headerName).toHaveAccessibleDescription('Is a reserved header name.');
    expect(headerName).toHaveFocus();
    expect(screen.getByLabelText('Retry schedule')).toHaveAccessibleDescription(
      /Must be at most 86400 seconds \(24 h\)/,
    );
    expect(screen.getByLabelText('Endpoint URL')).not.toHaveAttribute('aria-invalid');
  });

  it('shows an error the gateway did not tie to a field as a whole-form alert', async () => {
    server.use(
      http.post(`${GATEWAY}/v1/endpoints`, () =>
        errorResponse(429, 'rate_limited', 'Too many requests.'),
      ),
    );
    const { user } = renderWithGateway(<EndpointForm />);
    await user.type(
      await screen.findByLabelText('Endpoint URL'),
      'https://receiver.example.com/in',
    );
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The endpoint was not created. Too many requests.',
    );
  });

  it('checks the rate limit and header names locally', async () => {
    const { user } = renderWithGateway(<EndpointForm />);
    await user.type(
      await screen.findByLabelText('Endpoint URL'),
      'https://receiver.example.com/in',
    );
    await user.type(screen.getByLabelText('Rate limit (deliveries per minute, optional)'), '0');
    await user.click(screen.getByRole('button', { name: 'Add header' }));
    await user.type(screen.getByLabelText('Header 1 value'), 'orphan');
    await user.click(screen.getByRole('button', { name: 'Create endpoint' }));
    expect(
      screen.getByLabelText('Rate limit (deliveries per minute, optional)'),
    ).toHaveAccessibleDescription(/Enter a whole number from 1 to 1,000,000/);
    expect(screen.getByLabelText('Header 1 name')).toHaveAccessibleDescription(
      'Enter a header name.',
    );
    expect(gateway.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('edits an endpoint with a PATCH, keeping a custom retry schedule it cannot name', async () => {
    const endpoint = makeEndpoint({
      url: 'https://old.example.com/',
      event_types: ['legacy.event'],
      retry_schedule: [10, 20],
      headers: { Authorization: 'Bearer abc' },
    });
    gateway.endpoints.push(endpoint);
    seedCatalog();
    const onSaved = vi.fn();
    const { user } = renderWithGateway(
      <EndpointForm endpoint={endpoint} onSaved={onSaved} onCancel={() => {}} />,
    );
    expect(screen.getByRole('heading', { name: 'Edit endpoint' })).toBeInTheDocument();
    // An event type missing from the catalog stays listed and checked.
    expect(await screen.findByRole('checkbox', { name: 'legacy.event' })).toBeChecked();
    expect(screen.getByLabelText('Retry schedule')).toHaveValue('custom');
    const url = screen.getByLabelText('Endpoint URL');
    await user.clear(url);
    await user.type(url, 'https://new.example.com/');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledOnce());
    expect(gateway.requests.find((r) => r.method === 'PATCH')?.body).toEqual({
      url: 'https://new.example.com/',
      description: '',
      event_types: ['legacy.event'],
      rate_limit_per_minute: null,
      headers: { Authorization: 'Bearer abc' },
    });
  });

  it('cannot create an endpoint when the portal does not know its tenant', async () => {
    renderWithGateway(<EndpointForm />, { noTenant: true });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(/does not know which account it manages/);
    expect(screen.getByRole('button', { name: 'Create endpoint' })).toBeDisabled();
  });

  it('shows a catalog error with a retry, while the rest of the form stays usable', async () => {
    server.use(
      http.get(`${GATEWAY}/v1/event-types`, () =>
        errorResponse(500, 'internal_error', 'Catalog down.'),
      ),
    );
    renderWithGateway(<EndpointForm />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load the event types. Catalog down.');
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Create endpoint' })).toBeEnabled();
  });
});
