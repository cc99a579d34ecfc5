import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: {
    name: 'gateway',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Database-backed suites and real gateway processes share 2 cores: run this project in its
    // own group, after the light ones, with modest file parallelism.
    maxWorkers: 2,
    sequence: { groupOrder: 1 },
  },
});
