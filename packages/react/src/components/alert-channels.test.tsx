import { screen, waitFor } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { errorResponse, GATEWAY, makeEndpoint } from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { AlertChannels } from './alert-channels';

describe('AlertChannels', () => {
  it('loads the channels into the form and saves changes', async () => {
    gateway.alertChannels = {
      tenant_id: 'acme',
      emails: ['ops@acme.test'],
      slack_webhook_url: 'https://hooks.slack.test/services/T/B/X',
    };
    const { user } = renderWithGateway(<AlertChannels />);
    const emails = await screen.findByLabelText('Email addresses');
    expect(emails).toHaveValue('ops@acme.test');
    expect(screen.getByLabelText('Slack webhook URL (optional)')).toHaveValue(
      'https://hooks.slack.test/services/T/B/X',
    );

    await user.type(emails, '\noncall@acme.test');
    await user.clear(screen.getByLabelText('Slack webhook URL (optional)'));
    await user.click(screen.getByRole('button', { name: 'Save alert settings' }));
    expect(await screen.findByText('Alert settings saved.', { selector: 'p' })).toBeInTheDocument();
    expect(gateway.requests.find((r) => r.method === 'PUT')).toMatchObject({
      path: '/v1/tenants/acme/alert-channels',
      body: { emails: ['ops@acme.test', 'oncall@acme.test'], slack_webhook_url: null },
    });
  });

  it('checks addresses and the Slack URL before saving', async () => {
    const { user } = renderWithGateway(<AlertChannels />);
    const emails = await screen.findByLabelText('Email addresses');
    await user.type(emails, 'not-an-address');
    await user.type(
      screen.getByLabelText('Slack webhook URL (optional)'),
      'http://hooks.slack.test/x',
    );
    await user.click(screen.getByRole('button', { name: 'Save alert settings' }));
    expect(emails).toHaveAccessibleDescription(/Not an email address: not-an-address\./);
    expect(emails).toHaveFocus();
    expect(screen.getByLabelText('Slack webhook URL (optional)')).toHaveAccessibleDescription(
      /The URL must start with https:\/\//,
    );
    expect(gateway.requests.some((r) => r.method === 'PUT')).toBe(false);
  });

  it("puts the gateway's refusal of one address on the emails field", async () => {
    server.use(
      http.put(`${GATEWAY}/v1/tenants/:tenant/alert-channels`, () =>
        errorResponse(400, 'invalid_request', 'Invalid request body.', [
          { path: 'emails[1]', message: 'must be an email address' },
        ]),
      ),
    );
    const { user } = renderWithGateway(<AlertChannels />);
    await user.type(await screen.findByLabelText('Email addresses'), 'a@acme.test\nb@acme.test');
    await user.click(screen.getByRole('button', { name: 'Save alert settings' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Email addresses')).toHaveAccessibleDescription(
        /Address 2 \(b@acme\.test\) must be an email address\./,
      ),
    );
  });

  it('shows a refused Slack URL on its field', async () => {
    server.use(
      http.put(`${GATEWAY}/v1/tenants/:tenant/alert-channels`, () =>
        errorResponse(400, 'url_not_allowed', 'The slack_webhook_url is not allowed.', [
          {
            path: 'slack_webhook_url',
            message: 'has a host that does not resolve to an allowed address',
          },
        ]),
      ),
    );
    const { user } = renderWithGateway(<AlertChannels />);
    await user.type(
      await screen.findByLabelText('Slack webhook URL (optional)'),
      'https://intranet.example/x',
    );
    await user.click(screen.getByRole('button', { name: 'Save alert settings' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Slack webhook URL (optional)')).toHaveAccessibleDescription(
        /Has a host that does not resolve to an allowed address\./,
      ),
    );
    expect(screen.getByLabelText('Slack webhook URL (optional)')).toHaveFocus();
  });

  it('learns the tenant from its endpoints when the provider was not told', async () => {
    gateway.endpoints.push(makeEndpoint());
    renderWithGateway(<AlertChannels />, { noTenant: true });
    expect(await screen.findByLabelText('Email addresses')).toBeInTheDocument();
    expect(gateway.requests.some((r) => r.path === '/v1/tenants/acme/alert-channels')).toBe(true);
  });

  it('explains that it cannot work without a tenant', async () => {
    renderWithGateway(<AlertChannels />, { noTenant: true });
    expect(await screen.findByRole('alert')).toHaveTextContent(/alert settings are unavailable/);
  });

  it('shows a load error with a retry', async () => {
    server.use(
      http.get(`${GATEWAY}/v1/tenants/:tenant/alert-channels`, () =>
        errorResponse(500, 'internal_error', 'Nope.'),
      ),
    );
    renderWithGateway(<AlertChannels />);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not load the alert settings. Nope.',
    );
  });
});
