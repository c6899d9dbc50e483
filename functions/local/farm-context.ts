/**
 * Builds the LocalFarmContext both `buildfarm run` and `buildfarm serve` build with:
 * the embedded S3, a topic for reports, git-archive sources for mapped repositories,
 * the local secrets file, prices and the Lambda /tmp setting.
 */
import { CountedS3rverStores } from '../adapters/local/counted-store.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GitArchiveSource } from '../adapters/local/git-archive-source.js';
import type { EmbeddedS3 } from '../adapters/local/embedded-s3.js';
import { UserError } from '../domain/errors.js';
import type { FarmPolicy } from '../domain/plan/farm-policy.js';
import type { PriceBook } from '../domain/pricing/price-book.js';
import type { Notifier } from '../ports/notifier.js';
import type { RunningBuilds } from '../ports/running-builds.js';
import type { StageSandbox } from '../runner/sandbox.js';
import { LocalSecretsFile } from './executors/local-secrets.js';
import { workRootFor } from './data-directory.js';
import { farmFile } from './farm-files.js';
import { defaultStageConcurrency } from './stage-concurrency.js';
import { StageArtifactHandOver } from './stage-artifact-hand-over.js';
import type { LocalFarmContext } from './run-local-build.js';

export interface LocalSourceMapping {
  repository: string;
  /** A git working tree or bare repository. */
  path: string;
  /** Build only this folder of it (a project inside a monorepo). */
  subdirectory?: string;
}

export interface FarmContextOptions {
  dataDirectory: string;
  s3: EmbeddedS3;
  reports: Notifier;
  repositories: LocalSourceMapping[];
  region: string;
  prices: PriceBook;
  lambdaEphemeralStorageMB: number;
  /** The Lambda runner tiers to plan with, as the template's LambdaRunnerMaxMemoryMB deploys them (absent: every tier). */
  lambdaRunnerTiersMB?: readonly number[];
  /** Fork policy and cost limits; the defaults when absent. */
  policy?: FarmPolicy;
  /** Most stages of a wave at once (the Map's MaxConcurrency); default: the machine's cores. */
  maxStageConcurrency?: number;
  /** Where a build's page is (the local dashboard), for the report's link. */
  buildLink?(buildId: string): string | undefined;
  /** The farm's builds in flight, for `cancel-superseded` (see LocalFarmContext.running). */
  running?: RunningBuilds;
  /** Where stage commands run (probeStageSandbox); the CLI probes once and says what it found. */
  sandbox?: StageSandbox;
  /** `buildfarm run`: its export takes the stages' artifacts moved out of their workspaces (stage-artifact-hand-over.ts). */
  handOverArtifacts?: boolean;
}

const HELPER_SOURCE = farmFile('functions', 'runner', 'fargate-helper.ts');

export class RepositoryNotMapped extends UserError {
  override name = 'RepositoryNotMapped';
}

export function createFarmContext(options: FarmContextOptions): LocalFarmContext {
  const workRoot = workRootFor(options.dataDirectory);
  const counted = new CountedS3rverStores(options.s3.endpoint, options.s3.bucket);
  return {
    store: options.s3.store,
    countedStore: () => counted.take(),
    s3: options.s3.client,
    bucket: options.s3.bucket,
    reports: options.reports,
    sourceFor(repository) {
      const mapping = options.repositories.find((m) => m.repository.toLowerCase() === repository.toLowerCase());
      if (!mapping) throw new RepositoryNotMapped(`${repository} is not mapped to a local repository (--repo ${repository}=PATH)`);
      return new GitArchiveSource(mapping.path, 'git', mapping.subdirectory ?? '');
    },
    secrets: new LocalSecretsFile(join(options.dataDirectory, 'secrets.json')),
    region: options.region,
    prices: options.prices,
    lambdaEphemeralStorageMB: options.lambdaEphemeralStorageMB,
    lambdaRunnerTiersMB: options.lambdaRunnerTiersMB,
    policy: options.policy,
    workRoot,
    maxStageConcurrency: options.maxStageConcurrency ?? defaultStageConcurrency(),
    buildLink: options.buildLink ? (id) => options.buildLink?.(id) ?? `s3://${options.s3.bucket}/builds/${id}/` : undefined,
    // On AWS the helper is an esbuild bundle; locally its source stands in (only its hash is used).
    helperCode: () => readFile(HELPER_SOURCE),
    running: options.running,
    sandbox: options.sandbox,
    ...(options.handOverArtifacts ? { artifactHandOver: new StageArtifactHandOver({ workRoot, store: options.s3.store, sandbox: options.sandbox }) } : {}),
  };
}
