// @vitest-environment node
// The published components' size as an app bundles them: minified, gzipped, React excluded.
// Root `pnpm test` builds before running vitest; run "pnpm --filter @hookline/react build" first
// when running this alone.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/** Upper bounds, min+gz bytes: a regression past these fails the build. */
const LIMITS = { js: 20 * 1024, css: 5 * 1024 };

function distFile(name: string): string {
  const path = `${dist}${name}`;
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: build @hookline/react first ("pnpm --filter @hookline/react build"; the root "pnpm test" builds before running vitest).`,
    );
  }
  return path;
}

describe('bundle size', () => {
  it('stays small: every component and hook, minified and gzipped, without React', async () => {
    const entry = distFile('index.js');
    const result = await build({
      stdin: {
        contents: `export * from ${JSON.stringify(entry)};`,
        resolveDir: dist,
        loader: 'js',
      },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      write: false,
      external: ['react', 'react-dom', 'react/jsx-runtime'],
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.contents;
    const js = gzipSync(code, { level: 9 }).length;
    const cssText = readFileSync(distFile('styles.css'));
    const css = gzipSync(
      // Whitespace and comments out, as any CSS minifier would.
      Buffer.from(
        cssText
          .toString('utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/\s+/g, ' '),
      ),
      { level: 9 },
    ).length;
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(
      `@hookline/react bundle size (min+gz, React excluded): JS ${kib(js)} (${js} B, ${code.length} B minified), CSS ${kib(css)} (${css} B); limits JS ${kib(LIMITS.js)}, CSS ${kib(LIMITS.css)}`,
    );
    expect(js).toBeLessThan(LIMITS.js);
    expect(css).toBeLessThan(LIMITS.css);
    // React stays a peer: nothing of it is bundled in.
    expect(new TextDecoder().decode(code)).not.toMatch(/__SECRET_INTERNALS|react\.development/);
  });
});
