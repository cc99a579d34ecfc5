import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * Resolve workspace siblings to their `src/` (the `@hookline/source` export
 * condition) so tests never need a prior build.
 */
export const sourceConditions = {
  resolve: { conditions: ['@hookline/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@hookline/source', ...defaultServerConditions] } },
} satisfies UserWorkspaceConfig;

/** A package's vitest project with the shared resolution settings. */
export function hooklineProject(config: UserWorkspaceConfig): UserWorkspaceConfig {
  return defineProject({
    ...sourceConditions,
    ...config,
    test: { testTimeout: 20_000, hookTimeout: 30_000, ...config.test },
  });
}
