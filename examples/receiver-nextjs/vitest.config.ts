import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: { name: 'example-receiver-nextjs', include: ['app/**/*.test.ts', 'lib/**/*.test.ts'] },
});
