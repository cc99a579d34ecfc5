import { hooklineProject } from '../../vitest.shared';

/**
 * The fault-injection suite (`pnpm test:faults`; also part of `vitest run`): real gateway
 * processes, PostgreSQL sessions killed and restarted, misbehaving receivers, a noisy neighbour
 * and clock jumps. Each file is bounded; the whole project stays within about 5 minutes on two
 * cores. It runs in the gateway project's group (groupOrder 1), beside its 8.5-minute rate-limit
 * test, so that CI's total wall time does not grow; the group runs three files at a time.
 */
export default hooklineProject({
  test: {
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    // Measured alone, in its own project: see vitest.faults-quiet.config.ts.
    exclude: ['test/faults/noisy-neighbour.test.ts'],
    // The group's limit (see vitest.config.ts): the same in every project of a group.
    maxWorkers: 3,
    sequence: { groupOrder: 1 },
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
