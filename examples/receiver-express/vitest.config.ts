import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: { name: 'example-receiver-express', include: ['src/**/*.test.ts'] },
});
