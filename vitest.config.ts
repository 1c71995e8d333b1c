import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'cli/**/*.test.ts', 'test/rules/**/*.test.ts', 'test/fakes/**/*.test.ts', 'test/faults/**/*.test.ts'],
    // Builds the CLI bundle (when stale) once, before the tests that spawn it.
    globalSetup: ['test/fixtures/cli-bin.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
