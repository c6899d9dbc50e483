/**
 * Turns how a stage command ended into the stage's failure (or none): the exit code, the
 * signal, the deadline, the memory and disk limits, a cancellation. The agent throws what
 * this returns, so the stage's result names the cause the user must fix.
 */
import { constants } from 'node:os';
import { CommandFailed, InfrastructureError, OutOfDisk, OutOfMemory, SandboxFailed, StageCancelled, StageError, StageFailure, StageTimeout, failureFromName, whyStopped } from './errors.js';
import type { StageResult } from '../domain/report/types.js';
import type { CommandOutcome, ResourcePeaks } from './run-command.js';
import type { StageLog } from './stage-log.js';

const MiB = 1024 * 1024;

/**
 * Throws the named error for a failed result (for callers that must fail
 * with it: the Lambda runner, so Step Functions can Catch `StageTimeout` or
 * `OutOfDisk` and escalate to Fargate). Does nothing for a success.
 */
export function raiseForResult(result: StageResult): void {
  if (result.status === 'succeeded' || result.status === 'skipped') return;
  throw failureFromName(result.errorName ?? 'StageError', result.reason, result.exitCode);
}

export function failureOf(
  outcome: CommandOutcome,
  command: string,
  log: StageLog,
  peaks: ResourcePeaks,
  job: { memoryLimitMiB?: number; diskLimitMiB?: number; signal?: AbortSignal },
): StageFailure | InfrastructureError | undefined {
  switch (outcome.kind) {
    case 'exited': {
      if (outcome.exitCode === 0) return undefined;
      if (log.sawNoSpace) return new OutOfDisk(`"${command}" failed (exit ${outcome.exitCode}): no space left on device`);
      // 137 = 128 + SIGKILL: the shell reports a child the kernel's OOM killer took.
      if (outcome.exitCode === 137 && nearMemoryLimit(peaks, job)) {
        return new OutOfMemory(`"${command}" was killed (exit 137) near the ${job.memoryLimitMiB} MiB memory limit`);
      }
      return new CommandFailed(`"${command}" exited with ${outcome.exitCode}`, outcome.exitCode);
    }
    case 'signalled':
      if (outcome.signal === 'SIGKILL' && job.memoryLimitMiB !== undefined && !nearMemoryLimit(peaks, job)) {
        // Far below the limit the OOM killer has no reason to act: someone else killed it (kill -9, a supervisor).
        const peak = Math.ceil(peaks.memoryBytes / MiB);
        return new CommandFailed(
          `"${command}" was killed by SIGKILL from outside the stage (its memory peaked at ${peak} MiB, far below the ${job.memoryLimitMiB} MiB limit)`,
          128 + constants.signals.SIGKILL,
        );
      }
      if (outcome.signal === 'SIGKILL') {
        return new OutOfMemory(`"${command}" was killed by SIGKILL, as the kernel's OOM killer does`);
      }
      return new CommandFailed(`"${command}" was killed by ${outcome.signal}`, 128 + (constants.signals[outcome.signal] ?? 0));
    case 'timed_out':
      return new StageTimeout(`"${command}" was still running at the deadline; its process tree was stopped`);
    case 'out_of_memory':
      return new OutOfMemory(`"${command}" went past the ${job.memoryLimitMiB} MiB memory limit; its process tree was stopped`);
    case 'cancelled':
      return new StageCancelled(`${whyStopped(job.signal)} while "${command}" ran; its process tree was stopped`);
    case 'out_of_disk':
      return new OutOfDisk(`"${command}" went past the ${job.diskLimitMiB} MiB disk limit; its process tree was stopped`);
    case 'spawn_failed':
      return new StageError(`"${command}" could not start: ${outcome.message}`);
    case 'sandbox_failed':
      return new SandboxFailed(`the sandbox for "${command}" failed to start twice (${outcome.message}); the command did not run`);
  }
}

/** The tree's sampled peak came within 80% of the memory limit: close enough for the OOM killer to act. */
function nearMemoryLimit(peaks: ResourcePeaks, job: { memoryLimitMiB?: number }): boolean {
  return job.memoryLimitMiB !== undefined && peaks.memoryBytes >= 0.8 * job.memoryLimitMiB * MiB;
}
