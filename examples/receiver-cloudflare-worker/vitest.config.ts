import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: { name: 'example-receiver-cloudflare-worker', include: ['src/**/*.test.ts'] },
});
