import { cp } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { main: 'src/main.ts', index: 'src/index.ts' },
  format: ['esm'],
  // Types for the programmatic entry only; the binary has none to offer.
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  // main.ts starts the binary only when it is the entry module, so it must not move into a chunk.
  splitting: false,
  target: 'node20',
  platform: 'node',
  // Bundled, so the published gateway does not depend on them: the private workspace package,
  // and postgres.js with this repository's patch (patches/postgres@3.4.9.patch: connections and
  // transactions that hung or leaked when PostgreSQL restarted; see docs/operations.md). A user's
  // install would fetch the unpatched release.
  noExternal: ['@hookline/api', 'postgres'],
  // storage/migrate.ts looks for `./migrations/` beside the running module first.
  async onSuccess() {
    await cp('src/storage/migrations', 'dist/migrations', { recursive: true });
  },
});
