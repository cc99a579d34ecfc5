import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wire } from './fixtures';
import { apiError, client, json, mockGateway } from './mock-gateway';

const gateway = mockGateway();
beforeAll(() => gateway.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => gateway.reset());
afterAll(() => gateway.server.close());

const endpoint = (n: number) => ({ ...wire.endpoint, id: `ep_${n}` });

/** Seven endpoints served three per page, with opaque cursors. */
function serveSevenEndpoints() {
  const all = [1, 2, 3, 4, 5, 6, 7].map(endpoint);
  gateway.on('listEndpoints', ({ url }) => {
    const cursor = url.searchParams.get('cursor');
    const start = cursor === null ? 0 : Number(cursor.replace('cur_', ''));
    const end = Math.min(start + 3, all.length);
    return json({
      data: all.slice(start, end),
      next_cursor: end < all.length ? `cur_${end}` : null,
    });
  });
}

describe('pagination', () => {
  it('for await walks every item of every page, passing each next_cursor on', async () => {
    serveSevenEndpoints();
    const ids: string[] = [];
    for await (const ep of client().endpoints.list({ tenantId: 'acme' })) ids.push(ep.id);
    expect(ids).toEqual(['ep_1', 'ep_2', 'ep_3', 'ep_4', 'ep_5', 'ep_6', 'ep_7']);
    const queries = gateway
      .calls('listEndpoints')
      .map((c) => Object.fromEntries(c.url.searchParams));
    expect(queries).toEqual([
      { tenant_id: 'acme' },
      { tenant_id: 'acme', cursor: 'cur_3' },
      { tenant_id: 'acme', cursor: 'cur_6' },
    ]);
  });

  it('page() fetches one page only', async () => {
    serveSevenEndpoints();
    const page = await client().endpoints.list({ limit: 3 }).page();
    expect(page.data.map((ep) => ep.id)).toEqual(['ep_1', 'ep_2', 'ep_3']);
    expect(page.nextCursor).toBe('cur_3');
    expect(gateway.calls('listEndpoints')).toHaveLength(1);
  });

  it('starts from the cursor given to list(), for page() and for iteration', async () => {
    serveSevenEndpoints();
    const h = client();
    const page = await h.endpoints.list({ cursor: 'cur_3' }).page();
    expect(page.data.map((ep) => ep.id)).toEqual(['ep_4', 'ep_5', 'ep_6']);
    const rest: string[] = [];
    for await (const ep of h.endpoints.list({ cursor: page.nextCursor! })) rest.push(ep.id);
    expect(rest).toEqual(['ep_7']);
  });

  it('pages() yields page by page', async () => {
    serveSevenEndpoints();
    const sizes: number[] = [];
    for await (const page of client().endpoints.list().pages()) sizes.push(page.data.length);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('sends nothing until used, and nothing more after the loop breaks', async () => {
    serveSevenEndpoints();
    const list = client().endpoints.list();
    expect(gateway.recorded).toHaveLength(0);
    for await (const ep of list) {
      if (ep.id === 'ep_2') break;
    }
    expect(gateway.calls('listEndpoints')).toHaveLength(1);
  });

  it('walks an empty list without a second request', async () => {
    gateway.on('listDeliveries', () => json({ data: [], next_cursor: null }));
    const items: unknown[] = [];
    for await (const delivery of client().deliveries.list({ status: 'dead' })) items.push(delivery);
    expect(items).toEqual([]);
    expect(gateway.calls('listDeliveries')).toHaveLength(1);
  });

  it('converts every item of every page (messages, deliveries, event types too)', async () => {
    gateway.on('listMessages', ({ url }) =>
      url.searchParams.get('cursor') === null
        ? json({ data: [wire.message], next_cursor: 'c' })
        : json({ data: [{ ...wire.message, id: 'msg_2' }], next_cursor: null }),
    );
    const messages = [];
    for await (const m of client().messages.list()) messages.push(m);
    expect(messages.map((m) => [m.id, m.tenantId, m.eventType])).toEqual([
      ['msg_1', 'acme', 'invoice.paid'],
      ['msg_2', 'acme', 'invoice.paid'],
    ]);
    gateway.on('listEventTypes', () => json({ data: [wire.eventType], next_cursor: null }));
    const names = [];
    for await (const t of client().eventTypes.list()) names.push(t.name);
    expect(names).toEqual(['invoice.paid']);
  });

  it('stops with an error when the gateway answers the same cursor again', async () => {
    gateway.on('listEndpoints', () => json({ data: [endpoint(1)], next_cursor: 'stuck' }));
    const seen: string[] = [];
    await expect(async () => {
      for await (const ep of client().endpoints.list()) seen.push(ep.id);
    }).rejects.toThrow('Hookline: the gateway answered the same cursor twice; stopping the list.');
    expect(gateway.calls('listEndpoints')).toHaveLength(2);
  });

  it('rejects the loop with the error of a failing page', async () => {
    gateway.on('listEndpoints', ({ url }) =>
      url.searchParams.get('cursor') === null
        ? json({ data: [endpoint(1)], next_cursor: 'c2' })
        : apiError(401, 'unauthorized', 'The API key is not valid.'),
    );
    const seen: string[] = [];
    await expect(async () => {
      for await (const ep of client().endpoints.list()) seen.push(ep.id);
    }).rejects.toMatchObject({ status: 401 });
    expect(seen).toEqual(['ep_1']);
  });
});
