import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The packed-package test builds dist (tsup with declarations: minutes on 2 cores), packs and
    // installs it: `npm run test:package` runs it, and so does CI (.ci/run), after `npm test`.
    exclude: ['test/package.test.ts', '**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default leaves a core free (one test file at a time on 2 cores: 260 s); the tests
    // are mostly single-threaded, so two files at once on 2 cores take 163 s.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
