import { configDefaults } from 'vitest/config';
import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: {
    name: 'gateway',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault-injection scenarios are their own project (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    // Database-backed suites and real gateway processes share 2 cores: run this project in its
    // own group, after the light ones, with modest file parallelism. The group (this project and
    // the fault suite) shares one limit of files at a time: three, because one of them is the
    // 8.5-minute rate-limit test, which mostly waits, and the rest need two slots to finish
    // beside it.
    maxWorkers: 3,
    sequence: { groupOrder: 1 },
  },
});
