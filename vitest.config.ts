import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration suites share one Docker engine and 2 cores: run files one at a time
    // so that timings inside a test are not distorted by another suite's containers.
    fileParallelism: false,
    reporters: ['default'],
  },
});
