import { hooklineProject } from '../../vitest.shared';

/**
 * The noisy-neighbour fault (part of `pnpm test:faults`): it compares latencies within 10 %, so
 * it runs on its own, after every other project (groupOrder 4, the last group), where nothing
 * else competes for the two cores; the rest of the fault suite runs beside the gateway project.
 */
export default hooklineProject({
  test: {
    name: 'faults-quiet',
    include: ['test/faults/noisy-neighbour.test.ts'],
    maxWorkers: 1,
    sequence: { groupOrder: 4 },
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
