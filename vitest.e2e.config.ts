import { defineConfig } from 'vitest/config';

// Tests of the built extension: its bundle budget, then browser tests driving it in Chromium, one
// file at a time (each launches a browser).
export default defineConfig({
  test: {
    include: ['test/build/**/*.test.ts', 'test/e2e/**/*.e2e.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
