import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: {
    name: 'sdk',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The integration test runs an embedded gateway (PGlite); the machine has 2 cores shared with
    // other suites. A project-level maxWorkers needs its own groupOrder.
    maxWorkers: 2,
    sequence: { groupOrder: 2 },
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
