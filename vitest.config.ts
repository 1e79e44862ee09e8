import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // DuckDB holds a few hundred MB per workspace; two workers keep memory modest on small machines.
    maxWorkers: 2,
    // Info logs of every server started by the tests would bury the results; tests that read logs set their own level.
    env: { SEGMENTATION_MCP_LOG: 'warn' },
  },
});
