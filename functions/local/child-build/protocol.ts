/**
 * The messages between the farm and the process that runs one build
 * (child-process-runner.ts on the farm's side, build-process.ts in the child),
 * over Node's IPC channel with JSON serialisation: plain data only, dates as
 * ISO strings. The child reaches S3 (the farm's s3rver) over HTTP itself; what
 * only the farm holds (the bus topic, the running builds) is asked for here.
 */
import type { MessageAttributes } from '../../ports/notifier.js';
import type { FarmPolicy } from '../../domain/plan/farm-policy.js';
import type { Plan } from '../../domain/plan/types.js';
import type { PriceBook } from '../../domain/pricing/price-book.js';
import type { BuildReport, StageResult } from '../../domain/report/types.js';
import type { RunningBuild } from '../../domain/webhook/execution-input.js';
import type { StageSandbox } from '../../runner/sandbox.js';
import type { BuildExecutionInput } from '../build-record.js';
import type { LocalSourceMapping } from '../farm-context.js';

/** Everything the child builds with, sent once in `run`. */
export interface BuildProcessSettings {
  dataDirectory: string;
  s3: { endpoint: string; bucket: string };
  /** With `subdirectory` for a build `buildfarm run` handed over (it builds a folder of a repository). */
  repositories: LocalSourceMapping[];
  region: string;
  prices: PriceBook;
  lambdaEphemeralStorageMB: number;
  lambdaRunnerTiersMB?: number[];
  policy?: FarmPolicy;
  sandbox?: StageSandbox;
  /** The build's dashboard page, known to the farm once its server listens. */
  buildLink?: string;
  /** The prefix of the child's stage markers, by which the farm finds its stages if the child is killed. */
  markerFamily: string;
  /** Most stages of a wave at once (serve's `--stage-concurrency`); default: the machine's cores. */
  maxStageConcurrency?: number;
}

export type ToBuildProcess =
  | { type: 'run'; input: BuildExecutionInput; settings: BuildProcessSettings }
  | { type: 'abort'; reason: string }
  | { type: 'answer'; id: number; value?: unknown; error?: string };

export type FromBuildProcess =
  /** Its modules are loaded: sent once, before any `run` (a pre-forked child waits for one, warm-build-process.ts). */
  | { type: 'ready' }
  | { type: 'planned'; plan: Plan }
  | { type: 'stageStarted'; stage: string; at: string }
  | { type: 'stageLog'; stage: string; chunk: string }
  | { type: 'stageFinished'; result: StageResult }
  | { type: 'ask'; id: number; question: Question }
  | { type: 'report'; report: BuildReport }
  | { type: 'failed'; error: { name: string; message: string } };

/** What the child asks the farm: the bus topic the report step publishes to, and the running builds. */
export type Question =
  | { kind: 'publish'; message: string; attributes: MessageAttributes }
  | { kind: 'findRunning'; repository: string; branch: string }
  | { kind: 'stop'; executionArn: string; reason: string };

export type Answer<Q extends Question> = Q extends { kind: 'publish' } ? { messageId: string } : Q extends { kind: 'findRunning' } ? RunningBuild[] : void;
