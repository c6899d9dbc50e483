import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI bundle (dist/cli) is built from the sources under test before any test starts.
    globalSetup: ['test/support/build-cli.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Several suites start real servers (s3rver, the local farm) and child processes;
    // two cores is the machine's size, so keep the fork pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
