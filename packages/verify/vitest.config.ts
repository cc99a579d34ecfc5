import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: { name: 'verify', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
