// Builds the hosted portal (`pnpm --filter @hookline/gateway build:portal`) into dist/portal,
// which src/portal/router.ts serves at /portal. Workspace packages resolve to their src/.
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/portal/',
  logLevel: 'warn',
  resolve: { conditions: ['@hookline/source', ...defaultClientConditions] },
  build: {
    outDir: fileURLToPath(new URL('../dist/portal', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    // No inline script: the page's CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
  },
});
