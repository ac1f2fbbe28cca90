import { defineConfig } from 'vitest/config';

/** `npm run test:package`: the packed tarball installed into a fresh project (test/package.test.ts). */
export default defineConfig({
  test: {
    include: ['test/package.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
