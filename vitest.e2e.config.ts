import { defineConfig } from 'vitest/config';

// Browser tests drive the built extension in Chromium; one file at a time (each launches a browser).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
