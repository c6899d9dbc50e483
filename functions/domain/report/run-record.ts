/**
 * How the state machine ran a stage, beside the agent's result record: which path it took
 * (escalation, Spot fallback) and, for Fargate, the task timestamps billing is computed from.
 * Written by the `Record Fargate result` and `Record stage error` tasks; read by the report.
 */
import { RUN_TASK_RETRYABLE } from '../fargate/run-task-errors.js';
import type { Runner } from '../plan/types.js';
import type { S3RequestCount } from './cost-model.js';

export type CapacityProvider = 'FARGATE' | 'FARGATE_SPOT';

export interface FargateTaskRecord {
  taskArn?: string;
  /** The provider the task finally ran on. */
  capacityProvider: CapacityProvider;
  /** The stage asked for Spot and fell back to on-demand after capacity errors. */
  spotFallback: boolean;
  /** Epoch ms, from the `.sync` output (DescribeTasks). Billing starts here. */
  pullStartedAt?: number;
  /** Epoch ms. Billing ends here. */
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  /** The pull time is a model (the local farm pulls no image): see domain/fargate/pull-model.ts. */
  pullEstimated?: boolean;
  /** Exit code of the `build` container, when it ran. */
  buildExitCode: number | null;
  /** The Spot task Fargate interrupted before this on-demand run (billed too). */
  spotInterruption?: SpotInterruptionRecord;
}

/** A Spot task stopped with StopCode `SpotInterruption`: what it cost, for the report. */
export interface SpotInterruptionRecord {
  taskArn?: string;
  pullStartedAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  /**
   * S3 requests of the interrupted task (its helpers', from the result its publish container
   * recorded, when it got that far) and of recording the interruption: billed beside the rerun's.
   */
  s3Requests?: S3RequestCount;
}

export interface EscalationRecord {
  from: 'lambda';
  /** `StageTimeout` or `OutOfDisk`. */
  errorName: string;
  reason: string;
  /** Billed ms of the Lambda attempt when the runner reported it, else 0. */
  lambdaBilledMs: number;
  /** The attempt's INIT phase, ms (its sandbox's first invocation), when the runner reported it. */
  lambdaInitMs?: number;
  /** S3 requests and log bytes of the failed attempt, carried in its error (the result record was overwritten). */
  s3Requests?: S3RequestCount;
  logBytes?: number;
}

/** Where on the stage's path an error was caught (written by `Record stage error`). */
export type FailurePoint = 'lambda' | 'prepare' | 'runTask';

export interface StageRunRecord {
  stage: string;
  /** Where the stage finally ran. */
  runner: Runner;
  escalation?: EscalationRecord;
  /** Set once a task was asked for; without `pullStartedAt` it never ran (and cost nothing). */
  fargate?: FargateTaskRecord;
  error?: { name: string; at: FailurePoint };
  /** S3 requests of the control-plane tasks of this stage (fargate-prepare, the record task), this record's PUT included. */
  s3Requests?: S3RequestCount;
}

/** RunTask found no capacity (retried, then the Spot fallback or the stage's end). */
export const CAPACITY_ERRORS: readonly string[] = RUN_TASK_RETRYABLE;
