import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: {
    name: 'example-sender-node',
    include: ['test/**/*.test.ts'],
    // Runs an embedded gateway (PGlite): kept out of the light projects' group.
    maxWorkers: 1,
    sequence: { groupOrder: 3 },
  },
});
