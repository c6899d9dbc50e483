/**
 * The BuildRunner `buildfarm serve` uses: runLocalBuild, the real state
 * machine over the local Lambda and Fargate executors, exactly as
 * `buildfarm run` builds, with sources from the mapped repositories.
 */
import type { FarmPolicy } from '../domain/plan/farm-policy.js';
import type { PriceBook } from '../domain/pricing/price-book.js';
import type { StageSandbox } from '../runner/sandbox.js';
import type { BuildRunner } from './build-runner.js';
import { createFarmContext, type LocalSourceMapping } from './farm-context.js';
import { runLocalBuild } from './run-local-build.js';
import type { RunnerContext } from './start-farm.js';

export interface LocalBuildSettings {
  region: string;
  prices: PriceBook;
  lambdaEphemeralStorageMB: number;
  lambdaRunnerTiersMB?: readonly number[];
  policy?: FarmPolicy;
  /** Where stage commands run (probeStageSandbox). */
  sandbox?: StageSandbox;
  /** Most stages of a wave at once (`--stage-concurrency`); default: the machine's cores. */
  maxStageConcurrency?: number;
}

export function createLocalBuildRunner(context: RunnerContext, settings: LocalBuildSettings): BuildRunner {
  const contextFor = (repositories: LocalSourceMapping[]) => createFarmContext({
    dataDirectory: context.dataDirectory,
    s3: context.s3,
    reports: context.reports,
    repositories,
    region: settings.region,
    prices: settings.prices,
    lambdaEphemeralStorageMB: settings.lambdaEphemeralStorageMB,
    lambdaRunnerTiersMB: settings.lambdaRunnerTiersMB,
    policy: settings.policy,
    buildLink: context.buildLink,
    running: context.running,
    sandbox: settings.sandbox,
    maxStageConcurrency: settings.maxStageConcurrency,
  });
  const farm = contextFor(context.repositories);
  return {
    async run(input, { signal, progress, repository }) {
      // A handed-over build's own repository comes first (sourceFor takes the first match).
      const { report } = await runLocalBuild(input, repository ? contextFor([repository, ...context.repositories]) : farm, { signal, progress });
      return report;
    },
  };
}
