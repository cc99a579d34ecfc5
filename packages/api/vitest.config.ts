import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: { name: 'api', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
