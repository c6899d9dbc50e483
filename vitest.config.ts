import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI bundle (dist/cli) is built from the sources under test before any test starts.
    globalSetup: ['test/support/build-cli.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Several suites start real servers (s3rver, the local farm) and child processes, and spend
    // much of their time waiting on them: with two workers on this 2-core machine the cores were
    // busy 70 % of the suite's wall time. Three workers took it from 8 min 22 s to 7 min 22 s
    // (2026-12-02, same machine, all green); more would crowd the timing-sensitive end-to-end files.
    pool: 'forks',
    maxWorkers: 3,
  },
});
