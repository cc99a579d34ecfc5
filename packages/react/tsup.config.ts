import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2020',
  platform: 'browser',
  external: ['react', 'react-dom', 'react/jsx-runtime'],
  // Every component and hook needs the client: Next.js (App Router) reads this directive (esbuild
  // keeps a banner; rollup's treeshake pass would drop it, so it stays off).
  banner: { js: "'use client';" },
  // The stylesheet ships as written; apps import it once (`@hookline/react/styles.css`).
  async onSuccess() {
    await copyFile('src/styles.css', 'dist/styles.css');
  },
});
