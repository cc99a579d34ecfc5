import { defineConfig } from 'vitest/config';
import { LongFirstSequencer } from './scripts/long-first-sequencer';

export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'apps/*/vitest.config.ts',
      'apps/gateway/vitest.faults.config.ts',
      'apps/gateway/vitest.faults-quiet.config.ts',
      'examples/*/vitest.config.ts',
      'bench/vitest.config.ts',
    ],
    reporters: ['default', './scripts/summary-reporter.ts'],
    sequence: { sequencer: LongFirstSequencer },
  },
});
