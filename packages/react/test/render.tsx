import { type RenderResult, render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { HooklineProvider, type HooklineProviderProps } from '../src/context';
import { GATEWAY, TENANT, TOKEN } from './fake-gateway';

/** Renders `ui` under a provider pointed at the fake gateway, with a user-event instance. */
export function renderWithGateway(
  ui: ReactNode,
  options: Partial<Omit<HooklineProviderProps, 'children'>> & { noTenant?: boolean } = {},
): RenderResult & { user: ReturnType<typeof userEvent.setup> } {
  const { noTenant, ...props } = options;
  const user = userEvent.setup();
  const result = render(
    <HooklineProvider
      gatewayUrl={GATEWAY}
      token={TOKEN}
      {...(noTenant ? {} : { tenantId: TENANT })}
      {...props}
    >
      {ui}
    </HooklineProvider>,
  );
  return { ...result, user };
}
