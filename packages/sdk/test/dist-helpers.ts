import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package directory. */
export const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** A built file in dist/, failing with a clear message when it was not built. */
export function distPath(file: string): string {
  const path = `${packageDir}dist/${file}`;
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: build @hookline/sdk first ("pnpm --filter @hookline/sdk build"; the root "pnpm test" builds before running vitest).`,
    );
  }
  return path;
}

/** Imports a built ESM file from dist/. */
export async function importDist<T>(file: string): Promise<T> {
  return (await import(/* @vite-ignore */ pathToFileURL(distPath(file)).href)) as T;
}

/** Loads a built CJS file from dist/ through Node's own require. */
export function requireDist<T>(file: string): T {
  return createRequire(import.meta.url)(distPath(file)) as T;
}
