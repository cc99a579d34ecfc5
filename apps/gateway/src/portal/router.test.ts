import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostedPortalRoutes, PORTAL_CSP } from './router';

let built: string;
let missing: string;

beforeAll(async () => {
  built = await mkdtemp(join(tmpdir(), 'hookline-portal-built-'));
  await mkdir(join(built, 'assets'));
  await writeFile(
    join(built, 'index.html'),
    '<!doctype html><title>Webhooks</title><main id="root"></main>',
  );
  await writeFile(join(built, 'assets', 'index-AbC123.js'), 'console.log(1);');
  await writeFile(join(built, 'assets', 'index-AbC123.css'), 'body{}');
  await writeFile(join(built, 'secret.txt'), 'not an asset');
  missing = join(built, 'nope');
});

afterAll(async () => {
  await rm(built, { recursive: true, force: true });
});

function app(directory: string): Hono {
  return new Hono().route('/', hostedPortalRoutes({ directory }));
}

describe('hosted portal routes', () => {
  it('serves the page at /portal and /portal/ uncached, with a strict CSP', async () => {
    for (const path of ['/portal', '/portal/']) {
      const response = await app(built).request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-security-policy')).toBe(PORTAL_CSP);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(await response.text()).toContain('<main id="root">');
    }
    expect(PORTAL_CSP).toContain("script-src 'self'");
    expect(PORTAL_CSP).toContain("frame-ancestors 'none'");
    expect(PORTAL_CSP).not.toContain('unsafe-inline');
  });

  it('serves hashed assets with their type and a long immutable cache', async () => {
    const js = await app(built).request('/portal/assets/index-AbC123.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe('console.log(1);');
    const css = await app(built).request('/portal/assets/index-AbC123.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for unknown files, other types and anything outside assets/', async () => {
    for (const path of [
      '/portal/assets/missing-123.js',
      '/portal/assets/..%2Fsecret.txt',
      '/portal/assets/.hidden.js',
      '/portal/assets/index-AbC123.txt',
      '/portal/secret.txt',
      '/portal/index.html/x',
    ]) {
      const response = await app(built).request(path);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('not an asset');
    }
  });

  it('answers HEAD like GET without a body', async () => {
    const response = await app(built).request('/portal', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('refuses other methods with 405', async () => {
    for (const path of ['/portal', '/portal/assets/index-AbC123.js', '/portal/other']) {
      const response = await app(built).request(path, { method: 'POST', body: '{}' });
      expect(response.status, path).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('answers a clear 503 when the portal was not built', async () => {
    for (const path of ['/portal', '/portal/assets/index-AbC123.js', '/portal/other']) {
      const response = await app(missing).request(path);
      expect(response.status, path).toBe(503);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await response.text()).toMatch(/^The Hookline portal was not built.*build:portal/s);
    }
  });
});
