/**
 * The BuildRunner `buildfarm serve` uses: the real state machine through the
 * local ASL interpreter, as `buildfarm run` does.
 *
 * TODO(localfarm): wire runLocalBuild (functions/local, from the `run` work)
 * once it is on main. Until then a build ends in a clear error instead of a
 * made-up result.
 */
import type { BuildRunner } from './build-runner.js';
import type { RunnerContext } from './start-farm.js';

export class LocalRunnerUnavailable extends Error {
  override readonly name = 'LocalRunnerUnavailable';
}

export function createLocalBuildRunner(_context: RunnerContext): BuildRunner {
  return {
    async run() {
      throw new LocalRunnerUnavailable('this checkout has no local state machine runner yet (functions/local/run-local-build.ts)');
    },
  };
}
