/**
 * One stage's bill, as cost lines: every attempt it made (a Lambda attempt escalated to Fargate, a
 * Spot task interrupted before its on-demand rerun) with its real duration, Lambda's INIT phase,
 * each task's public IPv4 address, and the CloudWatch Logs its log cost. Pure: records and prices
 * come in as arguments. The rules each service bills by: billing.ts.
 */
import type { PlannedStage } from '../plan/types.js';
import { fargateBilledMs, fargateBilledMsFromDuration, lambdaBilledMs } from './billing.js';
import { BYTES_PER_GB, type CostModel } from './cost-model.js';
import { costLine, type CostLine } from './cost-breakdown.js';
import type { EscalationRecord, StageRunRecord } from './run-record.js';
import type { StageResult } from './types.js';

/** Lambda's hard limit: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
const LAMBDA_MAX_MS = 900_000;

/** How the farm's tasks reach the internet: decides the public IPv4 lines. */
export interface NetworkSetting {
  /** Tasks run with AssignPublicIp ENABLED (the template's created VPC, or AssignPublicIp=ENABLED). */
  publicIpv4PerTask: boolean;
}

/**
 * The billed time of a Lambda attempt that was escalated: what its error reported (the runner puts
 * the invocation's duration in the error message, handlers/stage-records.ts reads it back). Records
 * from before that carried nothing: a StageTimeout is then taken to have used its whole deadline
 * (estimated), an OutOfDisk attempt 0.
 */
export function lambdaAttemptMs(planned: PlannedStage, escalation: EscalationRecord): { ms: number; estimated: boolean } {
  if (escalation.lambdaBilledMs > 0) return { ms: lambdaBilledMs(escalation.lambdaBilledMs), estimated: false };
  if (escalation.errorName === 'StageTimeout') return { ms: Math.min(planned.timeoutSeconds * 1000, LAMBDA_MAX_MS), estimated: true };
  return { ms: 0, estimated: false };
}

function lambdaLines(planned: PlannedStage, stage: string, billedMs: number, initMs: number, costs: CostModel, attempt: string, estimated = false): CostLine[] {
  if (!planned.lambda) return [];
  const lines: CostLine[] = [];
  lines.push(costLine({ item: 'lambda', stage, quantity: billedMs, unit: 'ms', usd: costs.lambdaUsd(planned.lambda, billedMs), ...(estimated ? { estimated, note: `${attempt}: duration not reported, the whole deadline assumed` } : { note: attempt }) }));
  const init = lambdaBilledMs(initMs);
  if (init > 0) lines.push(costLine({ item: 'lambdaInit', stage, quantity: init, unit: 'ms', usd: costs.lambdaInitUsd(planned.lambda, init), note: `${attempt}: INIT of a new execution environment` }));
  return lines;
}

function ipv4Line(stage: string, ms: number, costs: CostModel, network: NetworkSetting, estimated: boolean): CostLine[] {
  if (!network.publicIpv4PerTask || ms <= 0) return [];
  return [costLine({ item: 'publicIpv4', stage, quantity: ms / 3_600_000, unit: 'hours', usd: costs.publicIpv4Usd(ms), ...(estimated ? { estimated } : {}) })];
}

function fargateLines(planned: PlannedStage, result: StageResult, run: StageRunRecord | undefined, costs: CostModel, network: NetworkSetting): CostLine[] {
  const stage = planned.name;
  const lines: CostLine[] = [];
  // With a run record the task's timestamps decide, and no task (or one that never pulled its
  // image) cost nothing; without one (records lost), the measured duration is the best guess.
  const task = run?.fargate;
  const billedMs = run ? fargateBilledMs(task?.pullStartedAt, task?.stoppedAt) : fargateBilledMsFromDuration(result.durationMs);
  const spot = task ? task.capacityProvider === 'FARGATE_SPOT' : planned.fargate.spot;
  const estimated = !run || task?.pullEstimated === true;
  if (billedMs > 0) {
    const note = !run ? 'no run record: billed from the measured duration' : task?.pullEstimated ? 'image pull time modelled (local farm)' : undefined;
    lines.push(costLine({ item: 'fargate', stage, quantity: billedMs, unit: 'ms', usd: costs.fargateUsd(planned.fargate, billedMs, spot), ...(estimated ? { estimated } : {}), ...(note ? { note } : {}) }));
    const heldMs = task?.pullStartedAt !== undefined && task.stoppedAt !== undefined ? task.stoppedAt - task.pullStartedAt : billedMs;
    lines.push(...ipv4Line(stage, heldMs, costs, network, estimated));
  }
  // A Spot task Fargate interrupted before the on-demand rerun was billed too, at the Spot rate.
  const interrupted = task?.spotInterruption;
  const interruptedMs = interrupted ? fargateBilledMs(interrupted.pullStartedAt, interrupted.stoppedAt) : 0;
  if (interrupted && interruptedMs > 0) {
    lines.push(costLine({ item: 'fargateSpotInterrupted', stage, quantity: interruptedMs, unit: 'ms', usd: costs.fargateUsd(planned.fargate, interruptedMs, true), note: 'the Spot task interrupted before the on-demand rerun' }));
    lines.push(...ipv4Line(stage, interrupted.stoppedAt! - interrupted.pullStartedAt!, costs, network, false));
  }
  return lines;
}

function logLine(stage: string, bytes: number, costs: CostModel): CostLine[] {
  if (bytes <= 0) return [];
  return [costLine({ item: 'cloudWatchLogs', stage, quantity: bytes / BYTES_PER_GB, unit: 'GB', usd: costs.cloudWatchLogsUsd(bytes) })];
}

/** Every line a stage that ran is billed for. */
export function stageCostLines(planned: PlannedStage, result: StageResult, run: StageRunRecord | undefined, costs: CostModel, network: NetworkSetting): CostLine[] {
  const stage = planned.name;
  const lines: CostLine[] = [];
  // An escalated stage also paid for the Lambda attempt that ran out of time or disk.
  if (run?.escalation) {
    const attempt = lambdaAttemptMs(planned, run.escalation);
    const attemptLines = attempt.ms > 0 ? lambdaLines(planned, stage, attempt.ms, run.escalation.lambdaInitMs ?? 0, costs, `Lambda attempt (${run.escalation.errorName})`, attempt.estimated) : [];
    lines.push(...[...attemptLines, ...logLine(stage, run.escalation.logBytes ?? 0, costs)].map((line) => ({ ...line, escalatedAttempt: true })));
  }
  const runner = run?.runner ?? result.runner;
  if (runner === 'lambda') {
    const invocation = result.lambdaInvocation;
    const billedMs = lambdaBilledMs(invocation?.durationMs ?? result.durationMs);
    lines.push(...lambdaLines(planned, stage, billedMs, invocation?.initDurationMs ?? 0, costs, invocation ? 'invocation' : 'the agent\'s duration (no invocation measured)'));
  } else {
    lines.push(...fargateLines(planned, result, run, costs, network));
  }
  lines.push(...logLine(stage, result.logBytes ?? 0, costs));
  return lines;
}
