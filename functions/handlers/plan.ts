/**
 * The `Plan` task: snapshot the source into S3, read and plan `.buildfarm.yml`, store the full
 * plan and return only the waves' sizes, so the execution's payloads stay far below 256 KiB
 * whatever the pipeline's size (`Select stages` reads each wave's stages from the stored plan). An invalid pipeline file throws `PipelineInvalid`,
 * which the state machine catches into the report.
 */
import type { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AwsSecretsProvider } from '../adapters/aws/aws-secrets-provider.js';
import { GitHubTarballSource } from '../adapters/aws/github-tarball-source.js';
import { S3HistoryStore } from '../adapters/s3-history-store.js';
import { PipelineInvalid } from '../domain/errors.js';
import { parsePipelineWithSites } from '../domain/pipeline/parse.js';
import { matchesTriggers } from '../domain/pipeline/triggers.js';
import { planPipeline } from '../domain/plan/planner.js';
import type { Plan, PlannerConfig } from '../domain/plan/types.js';
import { pendingStatus } from '../domain/report/commit-statuses.js';
import { executionConsoleUrl } from '../domain/report/console-url.js';
import { formatUsd } from '../domain/report/format.js';
import type { PriceBook } from '../domain/pricing/price-book.js';
import { planKey as planKeyOf, sourceKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { CommitStatusPort } from '../ports/commit-status.js';
import type { HistoryStore } from '../ports/history-store.js';
import type { SourceProvider } from '../ports/source-provider.js';
import type { PlanTaskInput, PlanTaskOutput } from './build-state-machine.js';
import { commitStatusesFromEnvironment } from './commit-status-environment.js';
import { readFileFromSnapshot } from './snapshot-file.js';
import { artifactStore, priceBook, region } from './task-environment.js';

export const PIPELINE_FILE = '.buildfarm.yml';
/** A pipeline file is text a person writes; anything bigger is a mistake. */
const MAX_PIPELINE_FILE_BYTES = 1024 * 1024;

export interface PlanTaskDeps {
  store: ArtifactStore;
  /** Posts the `pending` commit status of a build that will run; absent when no GitHub token is configured. */
  statuses?: CommitStatusPort;
  /** The build's page for that status; the execution's Step Functions console page when absent. */
  link?(buildId: string): string;
  logger?: { warn(message: string, ...extra: unknown[]): void };
  /**
   * What the report recorded for each stage of earlier builds; `S3HistoryStore` over `store`
   * when absent (it ignores a history object that is not a well-formed StageHistory).
   */
  history?: HistoryStore;
  source: SourceProvider;
  config: PlannerConfig;
  /** The price book predictions use (the default, or the user's override merged in). */
  prices: PriceBook;
}

export function parseConcurrency(text: string): number {
  const value = Number.parseInt(text, 10);
  // Map MaxConcurrency 0 means unbounded: never let a bad substitution mean that.
  return Number.isInteger(value) && value > 0 ? value : 1;
}

async function readPipelineText(store: ArtifactStore, key: string): Promise<string> {
  const snapshot = await store.get(key);
  if (!snapshot) throw new Error(`source snapshot ${key} is missing`);
  const text = await readFileFromSnapshot(snapshot as Readable, PIPELINE_FILE, MAX_PIPELINE_FILE_BYTES);
  if (text === undefined) {
    throw new PipelineInvalid([{ file: PIPELINE_FILE, line: 1, column: 1, path: '', message: `no ${PIPELINE_FILE} at the root of the repository` }]);
  }
  return text;
}

/**
 * Marks the commit as being built (the report replaces the status with the outcome). GitHub being
 * unreachable must not stop the build, so a refusal is logged, not thrown.
 */
async function postPending(input: PlanTaskInput, plan: Plan, deps: PlanTaskDeps): Promise<void> {
  if (!deps.statuses) return;
  const link = deps.link?.(input.buildId) ?? executionConsoleUrl(deps.config.region, input.executionArn);
  const count = plan.stages.length;
  const status = pendingStatus(link, `building ${count} stage${count === 1 ? '' : 's'} · predicted ${formatUsd(plan.predictedCostUsd)}`);
  try {
    await deps.statuses.post(input.request.repository, input.request.sha, status);
  } catch (error) {
    deps.logger?.warn('pending commit status not posted', { buildId: input.buildId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
}

export async function planTask(input: PlanTaskInput, deps: PlanTaskDeps): Promise<PlanTaskOutput> {
  const { buildId, request } = input;
  const snapshotKey = sourceKey(buildId);
  await deps.store.put(snapshotKey, await deps.source.snapshot({ repository: request.repository, sha: request.sha }), 'application/gzip');
  const { pipeline, sites } = parsePipelineWithSites(await readPipelineText(deps.store, snapshotKey), PIPELINE_FILE);
  const key = planKeyOf(buildId);
  const maxStageConcurrency = parseConcurrency(input.maxStageConcurrency);
  const decision = matchesTriggers(pipeline.on, request);
  if (!decision.build) {
    return { planKey: key, build: false, reason: decision.reason, failFast: pipeline.failFast, maxStageConcurrency, waves: [] };
  }
  const history = await (deps.history ?? new S3HistoryStore(deps.store)).loadHistory(request.repository, pipeline.stages.map((s) => s.name));
  const context = { event: request.event, branch: request.branch, ...(request.baseBranch ? { baseBranch: request.baseBranch } : {}) };
  const plan = planPipeline(pipeline, context, deps.config, { prices: deps.prices, history, locate: (path) => sites.locate(path), file: PIPELINE_FILE });
  await deps.store.put(key, JSON.stringify(plan), 'application/json');
  await postPending(input, plan, deps);
  return {
    planKey: key,
    build: true,
    reason: decision.reason,
    failFast: plan.failFast,
    maxStageConcurrency,
    waves: plan.waves.map((names, index) => ({ index, stageCount: names.length })),
  };
}

// ---- AWS wiring ---------------------------------------------------------------------------------

let awsDeps: PlanTaskDeps | undefined;

/**
 * Environment (beside task-environment.ts): `LAMBDA_EPHEMERAL_STORAGE_MB` (the runner's /tmp,
 * default 512), `GITHUB_TOKEN_SECRET_ARN` (optional: a token for private repositories and the
 * pending commit status) and `GITHUB_API_URL` (optional, GitHub Enterprise Server).
 */
function depsFromEnvironment(): PlanTaskDeps {
  const tokenSecret = process.env.GITHUB_TOKEN_SECRET_ARN;
  const secrets = tokenSecret ? new AwsSecretsProvider(new SecretsManagerClient({}), new SSMClient({})) : undefined;
  let token: Promise<string> | undefined;
  return {
    store: artifactStore(),
    source: new GitHubTarballSource({
      token: secrets && tokenSecret ? () => (token ??= secrets.resolve({ source: 'secretsmanager', id: tokenSecret, raw: tokenSecret })) : undefined,
    }),
    config: { region: region(), lambdaEphemeralStorageMB: Number(process.env.LAMBDA_EPHEMERAL_STORAGE_MB ?? 512) || 512 },
    prices: priceBook(),
    logger: new Logger({ serviceName: 'buildfarm-plan' }),
  };
}

export async function handler(input: PlanTaskInput): Promise<PlanTaskOutput> {
  awsDeps ??= depsFromEnvironment();
  return planTask(input, { ...awsDeps, statuses: await commitStatusesFromEnvironment() });
}
