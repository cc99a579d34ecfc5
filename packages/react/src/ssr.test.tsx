// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

describe('server rendering', () => {
  it('imports without a window and renders the portal shell to HTML', async () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');
    const { HooklineProvider, WebhookPortal, EndpointList, DeliveryLog } = await import('./index');
    const html = renderToString(
      <HooklineProvider gatewayUrl="https://gateway.test" token="hl_pt_x" tenantId="acme">
        <WebhookPortal />
        <EndpointList />
        <DeliveryLog endpointId="ep_1" />
      </HooklineProvider>,
    );
    expect(html).toContain('<h1>Webhooks</h1>');
    expect(html).toContain('Opening the portal…');
    expect(html).toContain('Loading endpoints…');
    expect(html).toContain('Loading deliveries…');
    expect(html).toContain('data-hl-theme="system"');
  });

  it('fails clearly outside a provider', async () => {
    const { EndpointList } = await import('./index');
    expect(() => renderToString(<EndpointList />)).toThrow(
      'Hookline components and hooks must be rendered inside <HooklineProvider>.',
    );
  });
});
