import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: {
    name: 'gateway',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Database-backed suites share one PostgreSQL server; keep file parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
