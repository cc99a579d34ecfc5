import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: { name: 'example-receiver-hono', include: ['src/**/*.test.ts'] },
});
