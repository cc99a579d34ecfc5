import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that take minutes, mostly waiting (the 8.75-minute rate-limit test sends 1,000 messages at
 * 120 a minute). On a clean clone vitest has no timings yet and starts the largest files first,
 * which would start these last and leave the group waiting on them alone; started first, they
 * run beside everything else in their group.
 */
const LONG_RUNNING = [
  'apps/gateway/test/e2e/rate-limit.test.ts',
  'apps/gateway/test/e2e/crash.test.ts',
];

export class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const path = file.moduleId.replaceAll('\\', '/');
      const index = LONG_RUNNING.findIndex((suffix) => path.endsWith(suffix));
      return index === -1 ? LONG_RUNNING.length : index;
    };
    // A stable sort that keeps the groups in order and moves the long files to the front of theirs.
    return sorted
      .map((file, position) => ({ file, position }))
      .sort(
        (a, b) =>
          a.file.project.config.sequence.groupOrder - b.file.project.config.sequence.groupOrder ||
          rank(a.file) - rank(b.file) ||
          a.position - b.position,
      )
      .map(({ file }) => file);
  }
}
