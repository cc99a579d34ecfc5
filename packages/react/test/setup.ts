import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createFakeGateway, type FakeGatewayState } from './fake-gateway';

/** The msw server every test file shares; `gateway` is reset before each test. */
export const server = setupServer();

/** The fake gateway's state of the running test. */
export let gateway: FakeGatewayState;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  const fake = createFakeGateway();
  gateway = fake.state;
  server.resetHandlers(...fake.handlers);
});
afterEach(() => cleanup());
afterAll(() => server.close());
