/**
 * One build on this machine: the real statemachines/build.asl.json through the local ASL
 * interpreter, its Task states bound to the real plan, schedule, report and
 * fargate-prepare code and to the local Lambda and Fargate executors. `buildfarm run`
 * and `buildfarm serve` both build through here.
 */
import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BuildRequest } from '../domain/build-request.js';
import type { FarmPolicy } from '../domain/plan/farm-policy.js';
import type { Plan } from '../domain/plan/types.js';
import type { CountedStore } from '../adapters/local/counted-store.js';
import { ENV } from '../domain/fargate/layout.js';
import { priceBookInfo, regionPrices, type PriceBook } from '../domain/pricing/price-book.js';
import { pricedCostModel, type S3RequestCount } from '../domain/report/cost-model.js';
import type { BuildReport, StageResult } from '../domain/report/types.js';
import { buildPrefix, stageResultKey } from '../domain/storage-keys.js';
import type { PlanTaskOutput } from '../handlers/build-state-machine.js';
import type { FargatePrepareOutput } from '../handlers/fargate-prepare.js';
import { planTask } from '../handlers/plan.js';
import { S3SpendLedger } from '../adapters/s3-spend-ledger.js';
import { s3ObjectRemover } from '../adapters/aws/s3-object-remover.js';
import { reportTask } from '../handlers/report.js';
import { scheduleTask } from '../handlers/schedule.js';
import { localRunnerFunction, memoryOfLocalRunner } from './asl-definition.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Notifier } from '../ports/notifier.js';
import type { RunningBuilds } from '../ports/running-builds.js';
import type { SecretsProvider } from '../ports/secrets.js';
import type { SourceProvider } from '../ports/source-provider.js';
import type { StageSandbox } from '../runner/sandbox.js';
import { LocalFargateExecutor } from './executors/local-fargate-executor.js';
import { LocalStageAccessSource } from './local-stage-access.js';
import { LocalLambdaExecutor } from './executors/local-lambda-executor.js';
import { StagesStopped } from '../runner/errors.js';
import { BuildAborted, runBuildLocally, type LocalTaskBindings } from './state-machine-runner.js';
import { releaseUnreportedReservation } from './release-reservation.js';
import type { StageArtifactHandOver } from './stage-artifact-hand-over.js';
import { InFlight } from './in-flight.js';
import { RetiredWorkFolders } from './retired-work-folders.js';

/** The pieces of the local farm a build needs. */
export interface LocalFarmContext {
  store: ArtifactStore;
  /**
   * A store with a client of its own that counts its S3 requests, one per task or invocation as
   * on AWS. Absent (unit tests on an in-memory store): nothing is counted and the report estimates.
   */
  countedStore?(): CountedStore;
  s3: S3Client;
  bucket: string;
  /** The BuildReports topic (the local bus). */
  reports: Notifier;
  /** The source of a repository's snapshots (git archive of its local path). */
  sourceFor(repository: string): SourceProvider;
  secrets: SecretsProvider;
  region: string;
  prices: PriceBook;
  lambdaEphemeralStorageMB: number;
  /** The Lambda runner tiers the plan may use (absent: every tier). */
  lambdaRunnerTiersMB?: readonly number[];
  /** Fork policy and cost limits (`--forks`, `--max-build-cost`, `--max-fork-build-cost`); the defaults when absent. */
  policy?: FarmPolicy;
  /** Scratch space for Lambda sandboxes and task workspaces (under .buildfarm/). */
  workRoot: string;
  maxStageConcurrency?: number;
  /** The Fargate helper's code, hashed into its S3 key by fargate-prepare. */
  helperCode(): Promise<Buffer>;
  /**
   * The build's page on the local dashboard, which the report links to; without it the report
   * links to the build's folder in the local bucket (there is no Step Functions console locally).
   */
  buildLink?(buildId: string): string;
  /**
   * The farm's queued and running builds (LocalFarm under `buildfarm serve`): a build whose
   * pipeline file sets `cancel-superseded` stops the older ones of its branch through it.
   * Absent (`buildfarm run` builds one commit alone), nothing is stopped.
   */
  running?: RunningBuilds;
  /**
   * Where stage commands run: the bubblewrap sandbox, or (said loudly) the host shell. Absent: the host
   * shell with no warning, as unit tests of the state machine want.
   */
  sandbox?: StageSandbox;
  /** `buildfarm run` only: the stages' artifacts moved out of their work folders for the build's export (build-files.ts). */
  artifactHandOver?: StageArtifactHandOver;
}

/** How a build is going, as it goes; every call is a notification only. */
export interface LocalBuildProgress {
  planned(plan: Plan): void;
  stageStarted(stage: string, at: Date): void;
  /** A piece of a running stage's log (secrets already masked by the agent). */
  stageLog(stage: string, chunk: string): void;
  stageFinished(result: StageResult): void;
}

export interface LocalBuildOptions {
  signal?: AbortSignal;
  progress?: Partial<LocalBuildProgress>;
}

export interface LocalBuildOutcome {
  report: BuildReport;
  /** Counted from the interpreter's events: what Step Functions would bill. */
  stateTransitions: number;
}

export class ReportMissing extends Error {
  override readonly name = 'ReportMissing';
}

/**
 * A stage's live log, forwarded to the progress callback as text. The agent writes bytes
 * as the command printed them, so a character may be split between two chunks: the
 * decoder holds its first bytes until the rest arrives.
 */
function logStream(stage: string, progress: Partial<LocalBuildProgress>): Writable {
  const decoder = new StringDecoder('utf8');
  const forward = (text: string) => {
    if (text.length > 0) progress.stageLog?.(stage, text);
  };
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      forward(typeof chunk === 'string' ? chunk : decoder.write(chunk));
      done();
    },
    final(done) {
      forward(decoder.end());
      done();
    },
  });
}

/** Runs one task with a counted store of its own when the farm has them (closed after). */
async function withCountedStore<T>(farm: LocalFarmContext, work: (store: ArtifactStore, requests?: () => S3RequestCount) => Promise<T>): Promise<T> {
  const counted = farm.countedStore?.();
  try {
    return await work(counted?.store ?? farm.store, counted?.requests);
  } finally {
    counted?.close();
  }
}

export async function runLocalBuild(
  input: { buildId: string; request: BuildRequest },
  farm: LocalFarmContext,
  options: LocalBuildOptions = {},
): Promise<LocalBuildOutcome> {
  const progress = options.progress ?? {};
  // The same grant checks as StageCredentials on AWS, in-process (local/local-stage-access.ts).
  const stageAccess = new LocalStageAccessSource({ store: farm.store, secrets: farm.secrets, bucket: farm.bucket });
  // Each finished stage's work folder is renamed away and deleted while the next stages run; the build waits for them at its end.
  const retired = new RetiredWorkFolders(farm.workRoot, farm.artifactHandOver);
  const lambda = new LocalLambdaExecutor({
    store: farm.store,
    secrets: farm.secrets,
    stageAccess,
    sandboxRoot: `${farm.workRoot}/lambda`,
    countedStore: farm.countedStore,
    ephemeralStorageMB: farm.lambdaEphemeralStorageMB,
    sandbox: farm.sandbox,
    retire: retired.retire,
  });
  const fargate = new LocalFargateExecutor({
    store: farm.store,
    s3: farm.s3,
    bucket: farm.bucket,
    secrets: farm.secrets,
    stageAccess,
    region: farm.region,
    workRoot: `${farm.workRoot}/fargate`,
    countedStore: farm.countedStore,
    helperCode: farm.helperCode,
    sandbox: farm.sandbox,
    retire: retired.retire,
  });
  // Budget reservations are deleted with the farm's own client (DeleteObject is free: nothing to count).
  const spendLedger = (store: ArtifactStore) => new S3SpendLedger(store, s3ObjectRemover(farm.s3, farm.bucket));
  const costs = pricedCostModel(regionPrices(farm.prices, farm.region), priceBookInfo(farm.prices, farm.region), farm.prices.githubHosted);
  let transitions = 0;
  // The build returns only once every stage run and every step it started has ended (in-flight.ts).
  const stages = new InFlight();
  const steps = new InFlight();
  // Stage runs stop when the build is stopped, and when the execution can no longer use them: a
  // failed iteration fails its Map, and Step Functions stops the Map's other iterations and the
  // `.sync` tasks they run (the interpreter stops their states, not the work its handlers started).
  // https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
  const stopStages = new AbortController();
  const stageSignal = options.signal ? AbortSignal.any([options.signal, stopStages.signal]) : stopStages.signal;

  const finished = async (stage: string): Promise<void> => {
    const text = await farm.store.getText(stageResultKey(input.buildId, stage));
    if (text) progress.stageFinished?.(JSON.parse(text) as StageResult);
  };

  const bindings: LocalTaskBindings = {
    plan: (planInput) => steps.track(async () => {
      const output: PlanTaskOutput = await withCountedStore(farm, (store, s3Requests) => planTask(planInput, {
        store,
        s3Requests,
        source: farm.sourceFor(planInput.request.repository),
        config: {
          region: farm.region,
          lambdaEphemeralStorageMB: farm.lambdaEphemeralStorageMB,
          ...(farm.lambdaRunnerTiersMB ? { lambdaRunnerTiersMB: farm.lambdaRunnerTiersMB } : {}),
        },
        prices: farm.prices,
        running: farm.running,
        policy: farm.policy,
        spend: spendLedger(store),
        // The plan as stored, for the progress display, without reading it back.
        onPlanned: (plan) => progress.planned?.(plan),
      }));
      return output;
    }),
    schedule: (scheduleInput, tokens) =>
      steps.track(() =>
        withCountedStore(farm, (store, s3Requests) =>
          scheduleTask(scheduleInput, { store, s3Requests, now: () => new Date(), tokens, runnerFunctionFor: (size) => localRunnerFunction(farm.region, size.memoryMB) }),
        ),
      ),
    // After a failed Map, the report waits for the stages being stopped, so it shows how they ended.
    // A build stopped meanwhile reports nothing: the farm records it as cancelled (and on AWS a
    // stopped execution never runs its Report state; the execution-end rule reports it instead).
    report: (reportInput) => stages.settled().then(() => {
      if (options.signal?.aborted) throw new BuildAborted('the build was stopped while its stages were stopping');
      return steps.track(() =>
        withCountedStore(farm, (store, s3Requests) => reportTask(reportInput, {
          store,
          s3Requests,
          notifier: farm.reports,
          costs,
          now: () => new Date(),
          region: farm.region,
          stateTransitions: () => transitions,
          spend: spendLedger(store),
          prices: regionPrices(farm.prices, farm.region),
          ...(farm.policy?.prCostThresholdPercent !== undefined ? { prCostThresholdPercent: farm.policy.prCostThresholdPercent } : {}),
          link: (buildId) => farm.buildLink?.(buildId) ?? `s3://${farm.bucket}/${buildPrefix(buildId)}`,
        })));
    }),
    runLambdaStage: (event, functionName) => stages.track(async () => {
      progress.stageStarted?.(event.stageName, new Date());
      try {
        // `fromFork` as the state machine passes it (the plan's secretsWithheld), as on AWS.
        return await lambda.invoke(event, logStream(event.stageName, progress), stageSignal, memoryOfLocalRunner(functionName));
      } finally {
        await finished(event.stageName);
      }
    }),
    prepareFargate: (event): Promise<FargatePrepareOutput> =>
      steps.track(() => fargate.prepare({ buildId: event.buildId, stageName: event.stageName, planKey: event.planKey, fromFork: event.fromFork, grant: event.grant })),
    runFargateTask: (parameters) => stages.track(async () => {
      const environment = parameters.Overrides.ContainerOverrides.flatMap((c) => c.Environment ?? []);
      const stage = environment.find((e) => e.Name === ENV.stage)?.Value ?? '';
      // What fargate-prepare put in the overrides from the state machine's `fromFork`, as the helpers read it on AWS.
      const withheld = environment.find((e) => e.Name === ENV.fromFork)?.Value === 'true';
      progress.stageStarted?.(stage, new Date());
      try {
        return await fargate.runTask(parameters, logStream(stage, progress), withheld, stageSignal);
      } finally {
        await finished(stage);
      }
    }),
  };

  let run;
  // The report, read while the work folders are handed over and deleted below (issue 12's fixed overhead).
  let readingReport: Promise<string | undefined> | undefined;
  try {
    run = await runBuildLocally(input, bindings, {
      signal: options.signal,
      substitutions: farm.maxStageConcurrency ? { MaxStageConcurrency: String(farm.maxStageConcurrency) } : undefined,
      onEvent: (event) => {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') transitions += 1;
        if (event.type === 'MapIterationFailed') stopStages.abort(new StagesStopped("another stage's step failed, and with it the build's `Run stages` Map,"));
      },
    });
    const reading = farm.store.getText(run.output.reportKey);
    // Awaited after the finally below; until then a failed read must not count as unhandled.
    reading.catch(() => undefined);
    readingReport = reading;
  } catch (error) {
    // The execution failed (a step without a Catch, a task's timeout) or was stopped: nothing will use the stages still running.
    stopStages.abort(options.signal?.aborted ? error : new StagesStopped(`the build's execution failed (${(error as Error).message}),`));
    // A stopped build never reaches Report; on AWS the execution-end rule reports it and so
    // releases its budget reservation. Locally nothing else would: release it here.
    await releaseUnreportedReservation(farm.store, input.buildId, spendLedger(farm.store));
    throw error;
  } finally {
    await stages.settled();
    await steps.settled();
    // Every stage's folder handed over (the export takes them next) and deleted.
    await retired.idle();
  }
  const text = await readingReport;
  if (!text) throw new ReportMissing(`the build ended without a report at ${run.output.reportKey}`);
  return { report: JSON.parse(text) as BuildReport, stateTransitions: run.stateTransitions };
}
