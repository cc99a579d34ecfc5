import { hooklineProject } from '../../vitest.shared';

export default hooklineProject({
  test: {
    name: 'react',
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
    environment: 'happy-dom',
    setupFiles: ['./test/setup.ts'],
  },
});
