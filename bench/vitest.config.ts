import { hooklineProject } from '../vitest.shared';

export default hooklineProject({
  test: { name: 'bench', include: ['verify/**/*.test.ts', 'gateway/**/*.test.ts'] },
});
