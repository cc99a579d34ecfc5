// @vitest-environment node
// The built files in dist/ (root `pnpm test` builds before running vitest).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import * as source from '../src/index';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

function distPath(file: string): string {
  const path = `${dist}${file}`;
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: build @hookline/react first ("pnpm --filter @hookline/react build"; the root "pnpm test" builds before running vitest).`,
    );
  }
  return path;
}

describe('dist', () => {
  it('ESM and CJS builds export what src/index.ts exports, marked "use client"', async () => {
    const esm = await import(/* @vite-ignore */ pathToFileURL(distPath('index.js')).href);
    const cjs = createRequire(import.meta.url)(distPath('index.cjs'));
    const names = Object.keys(source).sort();
    expect(Object.keys(esm).sort()).toEqual(names);
    expect(Object.keys(cjs).sort()).toEqual(names);
    for (const file of ['index.js', 'index.cjs']) {
      expect(readFileSync(distPath(file), 'utf8').startsWith("'use client';")).toBe(true);
    }
  });

  it('renders on the server from the build', async () => {
    const built = await import(/* @vite-ignore */ pathToFileURL(distPath('index.js')).href);
    const html = renderToString(
      createElement(
        built.HooklineProvider,
        { gatewayUrl: 'https://gateway.test', token: 'hl_pt_x' },
        createElement(built.WebhookPortal),
      ),
    );
    expect(html).toContain('Opening the portal…');
  });

  it('ships self-contained declarations: no zod, no @hookline/api', () => {
    for (const file of ['index.d.ts', 'index.d.cts']) {
      const text = readFileSync(distPath(file), 'utf8');
      expect(text).not.toMatch(/from ['"](zod|@hookline\/api)['"]/);
      expect(text).toContain('type Endpoint = {');
    }
  });
});
