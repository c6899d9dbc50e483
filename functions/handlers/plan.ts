/**
 * The `Plan` task: snapshot the source into S3, read and plan `.buildfarm.yml`, store the full
 * plan and return only the waves' sizes, so the execution's payloads stay far below 256 KiB
 * whatever the pipeline's size (`Select stages` reads each wave's stages from the stored plan). An invalid pipeline file throws `PipelineInvalid`,
 * which the state machine catches into the report.
 *
 * A pipeline file with `cancel-superseded: true` also makes the Plan task stop the older running
 * builds of the same branch (of the same pull request): the file of the newer build decides.
 *
 * The farm's policy (domain/plan/admission.ts) is applied here, so a refused build starts no
 * stage: a fork pull request under `forks: off` is refused before its source is fetched, and a
 * build whose plan predicts more than a cost limit is refused once planned. Either returns no
 * waves with `refused: true`, the path a build the triggers do not want already takes to Report.
 * So is a build whose prediction would take the spend past a daily or monthly budget
 * (handlers/budget-admission.ts); an admitted one holds its prediction in the spend ledger until
 * its report, and the stored plan names that reservation (`budgetReservation`).
 */
import { cacheScopeFor } from '../domain/cache/scope.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GitHubTarballSource } from '../adapters/aws/github-tarball-source.js';
import { SfnRunningBuilds, stateMachineArnOf } from '../adapters/aws/sfn-running-builds.js';
import { S3HistoryStore } from '../adapters/s3-history-store.js';
import { S3SpendLedger } from '../adapters/s3-spend-ledger.js';
import { s3ObjectRemover } from '../adapters/aws/s3-object-remover.js';
import { parsePipelineWithSites } from '../domain/pipeline/parse.js';
import { matchesTriggers } from '../domain/pipeline/triggers.js';
import { admitByCost, admitByForkPolicy, secretsWithheld } from '../domain/plan/admission.js';
import { DEFAULT_FARM_POLICY, type FarmPolicy } from '../domain/plan/farm-policy.js';
import { planPipeline } from '../domain/plan/planner.js';
import { loadStageHistory } from './stage-history-loader.js';
import { batchSlices, stageSlices } from '../domain/plan/stage-slice.js';
import type { Plan, PlannerConfig } from '../domain/plan/types.js';
import { parseLambdaRunnerTiers } from '../domain/sizing/lambda-sizes.js';
import { pendingStatus } from '../domain/report/commit-statuses.js';
import { executionConsoleUrl } from '../domain/report/console-url.js';
import { formatUsd } from '../domain/report/format.js';
import { pricingRegion, type PriceBook } from '../domain/pricing/price-book.js';
import { batchPlanKey, planKey as planKeyOf, sourceKey, stagePlanKey } from '../domain/storage-keys.js';
import { buildsToStop } from '../domain/webhook/superseded.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { CommitStatusPort } from '../ports/commit-status.js';
import type { HistoryStore } from '../ports/history-store.js';
import type { RunningBuilds } from '../ports/running-builds.js';
import type { SourceProvider } from '../ports/source-provider.js';
import type { SpendLedger } from '../ports/spend-ledger.js';
import { admitWithinBudgets, budgetRequestOf } from './budget-admission.js';
import type { PlanTaskInput, PlanTaskOutput } from './build-state-machine.js';
import { commitStatusesFromEnvironment, githubTokenFromEnvironment } from './commit-status-environment.js';
import { farmPolicyFromEnvironment } from './farm-policy-environment.js';
import { PIPELINE_FILE, readPipelineWhileStoringSnapshot } from './plan-snapshot.js';
import { artifactClient, artifactStore, requiredEnv, priceBook, region, s3RequestCounter } from './task-environment.js';
import { requestsSince, type S3RequestCount } from '../domain/report/cost-model.js';
import { runBounded } from '../domain/run-bounded.js';

export interface PlanTaskDeps {
  store: ArtifactStore;
  /** Posts the `pending` commit status of a build that will run; absent when no GitHub token is configured. */
  statuses?: CommitStatusPort;
  /** The build's page for that status; the execution's Step Functions console page when absent. */
  link?(buildId: string): string;
  logger?: { warn(message: string, ...extra: unknown[]): void; info?(message: string, ...extra: unknown[]): void };
  /**
   * The builds in flight (Step Functions executions on AWS, the local farm's builds locally), for
   * a pipeline file with `cancel-superseded: true`; absent, no build is ever stopped.
   */
  running?: RunningBuilds;
  /**
   * What the report recorded for each stage of earlier builds; `S3HistoryStore` over `store`
   * when absent (it ignores a history object that is not a well-formed StageHistory).
   */
  history?: HistoryStore;
  source: SourceProvider;
  config: PlannerConfig;
  /** The price book predictions use (the default, or the user's override merged in). */
  prices: PriceBook;
  /** Fork policy, cost limits and budgets; the defaults (`no-secrets`, forks at most $0.50, no budget) when absent. */
  policy?: FarmPolicy;
  /** The S3 requests `store`'s client has made so far (adapters/aws/s3-request-counter.ts). */
  s3Requests?: () => S3RequestCount;
  /** What earlier builds cost, for the budgets; `S3SpendLedger` over `store` when absent. */
  spend?: SpendLedger;
  /** The clock the budgets' day and month come from; the system clock when absent. */
  now?(): Date;
  /** How the budget check waits for builds planned at the same moment (admission-order.ts); setTimeout when absent. */
  sleep?(ms: number): Promise<void>;
  /** Hears the stored plan of a build that runs, before the task returns (the local farm's progress display). */
  onPlanned?(plan: Plan): void;
}

export function parseConcurrency(text: string): number {
  const value = Number.parseInt(text, 10);
  // Map MaxConcurrency 0 means unbounded: never let a bad substitution mean that.
  return Number.isInteger(value) && value > 0 ? value : 1;
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
    deps.logger?.warn('pending commit status not posted', { buildId: input.buildId, error: describe(error) });
  }
}

/**
 * Stops the older running builds this one supersedes (`buildsToStop`: same repository, event
 * and branch, same pull request, received strictly earlier by the webhook, never this build).
 * Comparing the webhook's receipt times, not execution start times, keeps a late redelivery of
 * an old push from stopping a newer build. A build that cannot be stopped is logged, not
 * thrown: this build goes on either way. Returns the stopped executions' ARNs.
 */
export async function stopSupersededBuilds(input: PlanTaskInput, running: RunningBuilds, logger?: PlanTaskDeps['logger']): Promise<string[]> {
  const { buildId, request, executionArn } = input;
  let candidates;
  try {
    candidates = await running.findRunning(request.repository, request.branch);
  } catch (error) {
    logger?.warn('running builds not listed: superseded builds not stopped', { buildId, error: describe(error) });
    return [];
  }
  const stopped: string[] = [];
  for (const build of buildsToStop({ executionArn, input: { buildId, request } }, candidates)) {
    try {
      await running.stop(build.executionArn, `superseded by ${buildId}`);
      stopped.push(build.executionArn);
      logger?.info?.('stopped superseded build', { buildId, stopped: build.input.buildId, executionArn: build.executionArn });
    } catch (error) {
      logger?.warn('superseded build not stopped', { buildId, executionArn: build.executionArn, error: describe(error) });
    }
  }
  return stopped;
}

/** The stored plan to whoever follows the build (the local progress display); its failure is not the build's. */
function tellPlanned(deps: PlanTaskDeps, plan: Plan): void {
  try {
    deps.onPlanned?.(plan);
  } catch (error) {
    deps.logger?.warn('a plan listener failed', { error: describe(error) });
  }
}

/**
 * `work`'s answer once `stored` has settled too; the upload's failure first, then `work`'s. `work`
 * runs while the upload goes on.
 */
async function afterStored<T>(stored: Promise<void>, work: () => Promise<T>): Promise<T> {
  const [upload, outcome] = await Promise.allSettled([stored, work()]);
  if (upload.status === 'rejected') throw upload.reason;
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Slices written at once: enough to write 1,000 in about a second, few enough not to be throttled. */
const SLICE_WRITES_IN_FLIGHT = 16;

/** An inline Map runs at most 40 iterations at once (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html). */
const INLINE_MAP_MAX_CONCURRENCY = 40;

/**
 * Each stage's slice of the plan, which its runner reads instead of the whole plan, and each
 * batch's, which `Select stages` reads (domain/plan/stage-slice.ts). Written only for a build
 * that runs, before any stage can start.
 */
async function storeSlices(store: ArtifactStore, slices: { key: string; slice: unknown }[]): Promise<void> {
  const writes = slices.map(({ key, slice }) => () => store.put(key, JSON.stringify(slice), 'application/json'));
  await runBounded(writes, SLICE_WRITES_IN_FLIGHT);
}

export async function planTask(input: PlanTaskInput, deps: PlanTaskDeps): Promise<PlanTaskOutput> {
  const { buildId, request } = input;
  const policy = deps.policy ?? DEFAULT_FARM_POLICY;
  const key = planKeyOf(buildId);
  const maxStageConcurrency = parseConcurrency(input.maxStageConcurrency);
  const withheld = secretsWithheld(request, policy);
  const notRun = (reason: string, refused: boolean, failFast = false, predictedCostUsd = 0): PlanTaskOutput => ({
    planKey: key, build: false, refused, secretsWithheld: withheld, predictedCostUsd, reason, failFast, maxStageConcurrency, batches: [],
  });
  const forks = admitByForkPolicy(request, policy);
  if (!forks.run) {
    deps.logger?.info?.('build refused', { buildId, reason: forks.reason });
    return notRun(forks.reason, true);
  }
  const snapshotKey = sourceKey(buildId);
  const requestsBefore = deps.s3Requests?.();
  // The stage histories load while the snapshot is still going into S3: one round trip fewer on every
  // build's path, on AWS as locally. Whatever happens next, the task ends only once the snapshot is
  // stored (a Lambda function's environment is frozen when it returns), its failure first.
  const snapshot = await readPipelineWhileStoringSnapshot(deps.store, snapshotKey, await deps.source.snapshot({ repository: request.repository, sha: request.sha }));
  const { pipeline, sites, decision, history } = await afterStored(snapshot.stored, async () => {
    const { pipeline, sites } = parsePipelineWithSites(snapshot.pipelineText, PIPELINE_FILE);
    const decision = matchesTriggers(pipeline.on, request);
    const history = decision.build ? await loadStageHistory(deps.history ?? new S3HistoryStore(deps.store), request.repository, pipeline.stages) : undefined;
    return { pipeline, sites, decision, history };
  });
  if (!decision.build || history === undefined) return notRun(decision.reason, false, pipeline.failFast);
  const context = { event: request.event, branch: request.branch, ...(request.baseBranch ? { baseBranch: request.baseBranch } : {}), secretsWithheld: withheld, cacheScope: cacheScopeFor(request) };
  const config = policy.optimize ? { ...deps.config, optimize: policy.optimize } : deps.config;
  const plan = planPipeline(pipeline, context, config, { prices: deps.prices, history, locate: (path) => sites.locate(path), file: PIPELINE_FILE });
  const cost = admitByCost(request, plan.predictedCostUsd, policy);
  const budget = cost.run ? await admitWithinBudgets(budgetRequestOf(buildId, request.repository, plan), policy, deps.spend ?? new S3SpendLedger(deps.store), deps) : cost;
  // Stored even when refused: the report quotes its prediction, and a person can see what was asked for.
  // The plan carries the requests made to plan it (the budget's included), its own PUT too, for
  // the report to bill; and the budget reservation the report releases.
  const reserved = budget.run && budget.reservationKey ? { ...plan, budgetReservation: budget.reservationKey } : plan;
  const stored = requestsBefore && deps.s3Requests ? { ...reserved, s3Requests: requestsSince(requestsBefore, deps.s3Requests(), { put: 1 }) } : reserved;
  const planStored = deps.store.put(key, JSON.stringify(stored), 'application/json');
  if (!budget.run) {
    await planStored;
    deps.logger?.info?.('build refused', { buildId, reason: budget.reason });
    return notRun(budget.reason, true, plan.failFast, plan.predictedCostUsd);
  }
  const batches = batchSlices(plan, Math.min(maxStageConcurrency, INLINE_MAP_MAX_CONCURRENCY));
  // The plan and its slices at once: nothing reads them before this task returns, and it returns
  // (or fails, the plan's failure first) only once every write has settled. The report reads the
  // plan even after a failed Plan step (its budget reservation, its requests).
  await afterStored(planStored, () =>
    storeSlices(deps.store, [
      ...stageSlices(plan).map((slice) => ({ key: stagePlanKey(key, slice.stage.name), slice })),
      ...batches.map((slice) => ({ key: batchPlanKey(key, slice.index), slice })),
    ]),
  );
  await postPending(input, plan, deps);
  if (plan.cancelSuperseded && deps.running) await stopSupersededBuilds(input, deps.running, deps.logger);
  tellPlanned(deps, stored);
  return {
    planKey: key,
    build: true,
    refused: false,
    secretsWithheld: plan.secretsWithheld,
    predictedCostUsd: plan.predictedCostUsd,
    reason: decision.reason,
    failFast: plan.failFast,
    maxStageConcurrency,
    batches: batches.map((batch) => ({ index: batch.index, stageCount: batch.stages.length })),
  };
}

// ---- AWS wiring ---------------------------------------------------------------------------------

let awsDeps: PlanTaskDeps | undefined;
let sfn: SFNClient | undefined;

/**
 * The planner's farm settings from the function's environment: `LAMBDA_EPHEMERAL_STORAGE_MB`
 * (the runners' /tmp, default 512) and `LAMBDA_RUNNER_TIERS_MB` (the runner tiers the stack
 * deploys, comma-separated; template.yaml sets it from LambdaRunnerMaxMemoryMB; absent: every tier).
 */
export function plannerConfigFromEnvironment(env: NodeJS.ProcessEnv, pricingRegion: string): PlannerConfig {
  const tiers = env.LAMBDA_RUNNER_TIERS_MB;
  return {
    region: pricingRegion,
    lambdaEphemeralStorageMB: Number(env.LAMBDA_EPHEMERAL_STORAGE_MB ?? 512) || 512,
    ...(tiers ? { lambdaRunnerTiersMB: parseLambdaRunnerTiers(tiers, 'LAMBDA_RUNNER_TIERS_MB') } : {}),
  };
}

/**
 * Environment (beside task-environment.ts): see plannerConfigFromEnvironment, `GITHUB_TOKEN_SECRET_ARN` (optional: a token for private repositories and the
 * pending commit status), `GITHUB_API_URL` (optional, GitHub Enterprise Server), and the farm's
 * policy: `BUILDFARM_FORKS`, `BUILDFARM_MAX_BUILD_COST_USD`, `BUILDFARM_MAX_FORK_BUILD_COST_USD`.
 */
function depsFromEnvironment(): PlanTaskDeps {
  const prices = priceBook();
  const logger = new Logger({ serviceName: 'buildfarm-plan' });
  const pricing = pricingRegion(prices, region());
  if (pricing.fallback) {
    logger.warn(`no prices for ${region()} in the price book: costs use ${pricing.region}'s; pass PricesJson to add this region's`);
  }
  return {
    store: artifactStore(),
    spend: new S3SpendLedger(artifactStore(), s3ObjectRemover(artifactClient(), requiredEnv('ARTIFACT_BUCKET'))),
    s3Requests: () => s3RequestCounter().snapshot(),
    // The same token as the commit statuses, read through Powertools Parameters (cached).
    source: new GitHubTarballSource({
      token: () => githubTokenFromEnvironment(),
      ...(process.env.GITHUB_API_URL ? { baseUrl: process.env.GITHUB_API_URL } : {}),
    }),
    config: plannerConfigFromEnvironment(process.env, pricing.region),
    prices,
    policy: farmPolicyFromEnvironment(process.env),
    logger,
  };
}

/**
 * The running builds of this execution's own state machine, read from `$$.Execution.Id`: no
 * environment variable, so the template has no function → state machine → function cycle.
 */
function runningBuildsOf(executionArn: string): RunningBuilds | undefined {
  try {
    const stateMachineArn = stateMachineArnOf(executionArn);
    sfn ??= new SFNClient({});
    return new SfnRunningBuilds(sfn, stateMachineArn);
  } catch (error) {
    awsDeps?.logger?.warn('no state machine to look for superseded builds in', { executionArn, error: describe(error) });
    return undefined;
  }
}

export async function handler(input: PlanTaskInput): Promise<PlanTaskOutput> {
  awsDeps ??= depsFromEnvironment();
  return planTask(input, { ...awsDeps, statuses: await commitStatusesFromEnvironment(), running: runningBuildsOf(input.executionArn) });
}
