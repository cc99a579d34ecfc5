import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, generateTypes } from '../scripts/generate-types';

describe('src/api-types.gen.ts', () => {
  it('is what scripts/generate-types.ts prints from the current @hookline/api schemas', () => {
    const onDisk = readFileSync(GENERATED_FILE, 'utf8');
    expect(
      onDisk === generateTypes(),
      'src/api-types.gen.ts is stale: run `pnpm --filter @hookline/sdk generate`',
    ).toBe(true);
  });

  it('imports nothing, so the published declarations cannot pull in zod or @hookline/api', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).not.toMatch(
      /^import\s|\sfrom\s+['"]|\bimport\(|\brequire\(/m,
    );
  });
});
