import { screen, within } from '@testing-library/react';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { errorResponse, GATEWAY, makeEndpoint } from '../../test/fake-gateway';
import { renderWithGateway } from '../../test/render';
import { gateway, server } from '../../test/setup';
import { SecretPanel } from './secret-panel';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('SecretPanel', () => {
  it('shows only the hint of the secret', async () => {
    const endpoint = makeEndpoint({ secret_hint: 'whsec_abcd' });
    gateway.endpoints.push(endpoint);
    renderWithGateway(<SecretPanel endpointId={endpoint.id} />);
    const hint = await screen.findByText('whsec_abcd', { exact: false });
    expect(hint.textContent).toBe('whsec_abcd••••••••');
    expect(document.body.textContent).not.toMatch(/whsec_[A-Za-z0-9+/]{11,}/);
  });

  it('reveals the creation secret once, copies it, and hides it for good', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { user } = renderWithGateway(
      <SecretPanel
        endpointId={endpoint.id}
        initialSecret={{ secret: SECRET, reason: 'created' }}
      />,
    );
    const reveal = await screen.findByRole('region', { name: 'Your signing secret' });
    expect(within(reveal).getByText(SECRET)).toBeInTheDocument();
    await user.click(within(reveal).getByRole('button', { name: 'Copy secret' }));
    // user-event's clipboard stands in for the browser's.
    expect(await navigator.clipboard.readText()).toBe(SECRET);
    expect(await within(reveal).findByText('Copied')).toBeInTheDocument();
    await user.click(within(reveal).getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByText(SECRET)).not.toBeInTheDocument();
    expect(screen.getByText('whsec_abcd', { exact: false })).toBeInTheDocument();
  });

  it('says so when the clipboard refuses', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { user } = renderWithGateway(
      <SecretPanel
        endpointId={endpoint.id}
        initialSecret={{ secret: SECRET, reason: 'created' }}
      />,
    );
    const denied = vi
      .spyOn(navigator.clipboard, 'writeText')
      .mockRejectedValue(new Error('denied'));
    // Nor can a selection be copied.
    const original = document.execCommand;
    document.execCommand = () => false;
    try {
      await user.click(await screen.findByRole('button', { name: 'Copy secret' }));
      expect(await screen.findByText(/Copy failed/)).toBeInTheDocument();
      expect(denied).toHaveBeenCalledWith(SECRET);
    } finally {
      document.execCommand = original;
    }
  });

  it('walks a rotation through its grace period and shows the new secret once', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { user } = renderWithGateway(<SecretPanel endpointId={endpoint.id} />);
    await user.click(await screen.findByRole('button', { name: 'Rotate secret…' }));
    const group = screen.getByRole('group', { name: 'Rotate the secret' });
    expect(within(group).getByText(/every webhook carries two signatures/)).toBeInTheDocument();
    const grace = within(group).getByLabelText('Grace period');
    expect(grace).toHaveValue('86400');
    await user.selectOptions(grace, '3600');
    await user.click(within(group).getByRole('button', { name: 'Rotate now' }));

    const reveal = await screen.findByRole('region', { name: 'Your new signing secret' });
    expect(
      within(reveal).getByText('whsec_Zm9yIHRoZSByb3RhdGlvbiB0ZXN0IG9ubHk='),
    ).toBeInTheDocument();
    expect(reveal).toHaveTextContent(/Both signatures are sent until .*2025/);
    expect(gateway.requests.find((r) => r.method === 'POST')?.body).toEqual({
      grace_period_seconds: 3600,
    });
    // The provider's live region announces it too.
    expect(
      await screen.findByText(/^Secret rotated\. Both signatures are sent until/),
    ).toBeInTheDocument();

    await user.click(within(reveal).getByRole('button', { name: 'I have saved it' }));
    // Afterwards only the hint, and the live rotation from the endpoint object.
    expect(
      await screen.findByText(/A rotation is in progress: both signatures are sent until/),
    ).toBeInTheDocument();
    expect(
      screen.queryByText(/whsec_Zm9yIHRoZSByb3RhdGlvbiB0ZXN0IG9ubHk=/),
    ).not.toBeInTheDocument();
  });

  it('says the old secret stops at once for a rotation without grace', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    const { user } = renderWithGateway(<SecretPanel endpointId={endpoint.id} />);
    await user.click(await screen.findByRole('button', { name: 'Rotate secret…' }));
    await user.selectOptions(screen.getByLabelText('Grace period'), '0');
    await user.click(screen.getByRole('button', { name: 'Rotate now' }));
    const reveal = await screen.findByRole('region', { name: 'Your new signing secret' });
    expect(reveal).not.toHaveTextContent('Both signatures');
    expect(
      await screen.findByText('Secret rotated. The old secret no longer signs.'),
    ).toBeInTheDocument();
  });

  it('shows a failed rotation and keeps the old hint', async () => {
    const endpoint = makeEndpoint();
    gateway.endpoints.push(endpoint);
    server.use(
      http.post(`${GATEWAY}/v1/endpoints/:id/rotate-secret`, () =>
        errorResponse(404, 'not_found', 'No endpoint with that id.'),
      ),
    );
    const { user } = renderWithGateway(<SecretPanel endpointId={endpoint.id} />);
    await user.click(await screen.findByRole('button', { name: 'Rotate secret…' }));
    await user.click(screen.getByRole('button', { name: 'Rotate now' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The secret was not rotated. No endpoint with that id.',
    );
    expect(screen.getByText('whsec_abcd', { exact: false })).toBeInTheDocument();
  });

  it('shows an error when the endpoint cannot be loaded', async () => {
    renderWithGateway(<SecretPanel endpointId="ep_missing" />);
    expect(await screen.findByRole('alert')).toHaveTextContent('No endpoint with that id.');
  });
});
