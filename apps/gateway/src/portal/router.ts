import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

/**
 * The hosted portal page's Content-Security-Policy: its own scripts, styles and API calls only;
 * no inline code, no framing (the page can delete endpoints: no clickjacking), no form posts.
 */
export const PORTAL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': PORTAL_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

// Vite names assets `<name>-<hash>.<ext>`: one path segment, no dot files, no traversal.
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Where `vite build` puts the portal: beside the bundled gateway, or the package's dist/ from src/. */
export function findPortalDirectory(): string | null {
  const candidates = [
    new URL('./portal/', import.meta.url),
    new URL('../../dist/portal/', import.meta.url),
  ];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(join(path, 'index.html'))) return path;
  }
  return null;
}

const readable = (method: string) => method === 'GET' || method === 'HEAD';

/** Options of `hostedPortalRoutes`. */
export interface HostedPortalOptions {
  /** The built portal folder (holding index.html and assets/); default: `findPortalDirectory()`. */
  directory?: string;
}

const NOT_BUILT =
  'The Hookline portal was not built, so this gateway cannot serve it. Build it with ' +
  '"pnpm --filter @hookline/gateway build" (its build:portal step writes dist/portal), then ' +
  'restart the gateway.\n';

/**
 * `GET /portal`: the hosted portal page that portal links open (`/portal#token=hl_pt_…`), and
 * its hashed assets under `/portal/assets/`. The page is never cached (a new build must show at
 * once); assets are immutable. Without a built portal every path answers 503 saying so.
 */
export function hostedPortalRoutes(options: HostedPortalOptions = {}): Hono {
  const router = new Hono();
  // Looked up until found, so a portal built after the gateway started is served.
  let directory: string | null = null;
  const locate = (): string | null => {
    if (options.directory !== undefined) {
      return existsSync(join(options.directory, 'index.html')) ? options.directory : null;
    }
    directory ??= findPortalDirectory();
    return directory;
  };
  const notBuilt = () =>
    new Response(NOT_BUILT, {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    });
  const notFound = () =>
    Response.json(
      { error: { code: 'not_found', message: 'There is no such portal file.' } },
      { status: 404, headers: { 'cache-control': 'no-store' } },
    );

  const notAllowed = () =>
    Response.json(
      {
        error: {
          code: 'method_not_allowed',
          message: 'The portal page only answers GET and HEAD.',
        },
      },
      { status: 405, headers: { allow: 'GET, HEAD', 'cache-control': 'no-store' } },
    );

  const page = async () => {
    const root = locate();
    if (!root) return notBuilt();
    const html = await readFile(join(root, 'index.html'), 'utf8');
    return new Response(html, {
      status: 200,
      headers: {
        ...PAGE_HEADERS,
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      },
    });
  };
  // Mounted for every method, like Hono's serveStatic: a page, not an API route (it is not in
  // /openapi.json); anything but GET and HEAD is refused here.
  router.all('/portal', (c) => (readable(c.req.method) ? page() : notAllowed()));
  router.all('/portal/', (c) => (readable(c.req.method) ? page() : notAllowed()));

  router.all('/portal/assets/:name', async (c) => {
    if (!readable(c.req.method)) return notAllowed();
    const root = locate();
    if (!root) return notBuilt();
    const name = c.req.param('name');
    const type = CONTENT_TYPES[extname(name)];
    if (!ASSET_NAME.test(name) || !type) return notFound();
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = new Uint8Array(await readFile(join(root, 'assets', name)));
    } catch {
      return notFound();
    }
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': type,
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      },
    });
  });

  router.all('/portal/*', (c) =>
    !readable(c.req.method) ? notAllowed() : locate() ? notFound() : notBuilt(),
  );
  return router;
}
