// Prints the size users pay for: dist/index.js bundled and minified by esbuild, then gzipped.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { expect, it } from 'vitest';
import { distPath } from './dist-helpers';

/** Well above today's size (about 6 KB); a jump past it means something heavy got bundled. */
const MAX_MIN_GZ_BYTES = 10 * 1024;

it('keeps dist/index.js small (min+gz), and prints the figure', async () => {
  const output = await build({
    entryPoints: [distPath('index.js')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const minified = output.outputFiles[0]!.contents;
  const gzipped = gzipSync(minified, { level: 9 }).byteLength;
  console.log(`sdk bundle: ${gzipped} B min+gz (${minified.byteLength} B min)`);
  expect(gzipped).toBeGreaterThan(1_000);
  expect(gzipped).toBeLessThan(MAX_MIN_GZ_BYTES);
});
