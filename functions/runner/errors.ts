/**
 * The stage agent's error names. Error names are API: Step Functions routes
 * `Catch`/`Retry` on them (a Lambda `StageTimeout` or `OutOfDisk` escalates
 * the stage to Fargate), so each class sets a literal `name`.
 *
 * Two families, kept apart on purpose:
 * - `StageFailure`: the user's stage failed (its commands, its limits, its
 *   files). `runStage` records these in the StageResult and returns it.
 * - `InfrastructureError`: the farm could not do its part (snapshot missing,
 *   S3 writes failing, a secret that cannot be read). `runStage` throws them.
 */

export abstract class StageFailure extends Error {
  abstract override readonly name: string;
  /** Status the stage gets in its result. */
  readonly status: 'failed' | 'timed_out' | 'cancelled' = 'failed';
  readonly exitCode: number | null = null;
}

/** A command exited non-zero; the stage stopped there. */
export class CommandFailed extends StageFailure {
  override readonly name = 'CommandFailed';
  override readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The stage's deadline passed; its whole process tree was killed. */
export class StageTimeout extends StageFailure {
  override readonly name = 'StageTimeout';
  override readonly status = 'timed_out' as const;
}

/** The build was stopped while the stage ran; its whole process tree was killed. */
export class StageCancelled extends StageFailure {
  override readonly name = 'StageCancelled';
  override readonly status = 'cancelled' as const;
}

/**
 * The reason a stage's stop signal carries when the farm stopped the stage and nobody stopped the
 * build (locally: another stage's step failed the build's Map, which stops its other iterations).
 * Its message says what happened, and the stopped stage's reason starts with it.
 */
export class StagesStopped extends Error {
  override readonly name = 'StagesStopped';
}

/** What stopped a stage, as its reason puts it: the farm's own StagesStopped message, or the build being stopped. */
export function whyStopped(signal: AbortSignal | undefined): string {
  return signal?.reason instanceof StagesStopped ? signal.reason.message : 'the build was stopped';
}

/** The workspace grew past the disk limit, or a write hit ENOSPC. */
export class OutOfDisk extends StageFailure {
  override readonly name = 'OutOfDisk';
}

/** The process tree grew past the memory limit, or was SIGKILLed as the kernel's OOM killer does. */
export class OutOfMemory extends StageFailure {
  override readonly name = 'OutOfMemory';
}

/** The stage needs secrets but the build comes from a fork's pull request: secrets are never given to forks. */
export class SecretsDeniedForFork extends StageFailure {
  override readonly name = 'SecretsDeniedForFork';
}

/** The source snapshot holds an entry that would land outside the workspace (or a link pointing out). */
export class UnsafeArchive extends StageFailure {
  override readonly name = 'UnsafeArchive';
  constructor(
    readonly entry: string,
    why: string,
  ) {
    super(`unsafe archive entry "${entry}": ${why}`);
  }
}

/** The snapshot unpacks to more than the limit (a decompression bomb, or a repository too big for the runner). */
export class SnapshotTooLarge extends StageFailure {
  override readonly name = 'SnapshotTooLarge';
  constructor(readonly limitBytes: number) {
    super(`the source snapshot unpacks to more than ${limitBytes} bytes`);
  }
}

/** An artifact glob or a matched file points outside the workspace (`..`, an absolute path, a link leaving it). */
export class UnsafeArtifactPath extends StageFailure {
  override readonly name = 'UnsafeArtifactPath';
}

/** A stage failed for a reason outside the named ones (a command could not be started, for instance). */
export class StageError extends StageFailure {
  override readonly name = 'StageError';
}

export abstract class InfrastructureError extends Error {
  abstract override readonly name: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The build's source snapshot is not in the artifact store. */
export class SnapshotMissing extends InfrastructureError {
  override readonly name = 'SnapshotMissing';
}

/** An upstream stage's artifact listed in its manifest could not be downloaded. */
export class ArtifactDownloadFailed extends InfrastructureError {
  override readonly name = 'ArtifactDownloadFailed';
}

/**
 * An archive came down different from what its manifest says (sha256 or size), or is
 * not an archive at all: the stored object was damaged or replaced.
 */
export class ArtifactCorrupt extends InfrastructureError {
  override readonly name = 'ArtifactCorrupt';
}

/** An artifact (or the manifest) could not be stored, after the SDK's retries. */
export class ArtifactUploadFailed extends InfrastructureError {
  override readonly name = 'ArtifactUploadFailed';
}

/** The stage log or result record could not be stored, after the SDK's retries. */
export class ResultUploadFailed extends InfrastructureError {
  override readonly name = 'ResultUploadFailed';
}

/** A secret the stage references could not be read. */
export class SecretUnavailable extends InfrastructureError {
  override readonly name = 'SecretUnavailable';
}

/** bubblewrap could not set up the local farm's sandbox (twice): the command never ran, so it is not the stage's failure. */
export class SandboxFailed extends InfrastructureError {
  override readonly name = 'SandboxFailed';
}

/** The agent itself failed unexpectedly (a bug or an unreadable record): never the user's fault. */
export class RunnerError extends InfrastructureError {
  override readonly name = 'RunnerError';
}

/** The build's plan is not in the artifact store. */
export class PlanMissing extends InfrastructureError {
  override readonly name = 'PlanMissing';
}

/** The stage is not in the plan the runner was given. */
export class StageNotInPlan extends InfrastructureError {
  override readonly name = 'StageNotInPlan';
}

const FAILURES_BY_NAME: Record<string, (message: string, exitCode: number | null) => StageFailure> = {
  CommandFailed: (message, exitCode) => new CommandFailed(message, exitCode ?? 1),
  StageTimeout: (message) => new StageTimeout(message),
  OutOfDisk: (message) => new OutOfDisk(message),
  OutOfMemory: (message) => new OutOfMemory(message),
  StageCancelled: (message) => new StageCancelled(message),
  SecretsDeniedForFork: (message) => new SecretsDeniedForFork(message),
  StageError: (message) => new StageError(message),
};

/** Rebuilds the named failure from a result's `errorName` (for callers that must throw it). */
export function failureFromName(errorName: string, message: string, exitCode: number | null): StageFailure {
  const make = FAILURES_BY_NAME[errorName];
  if (make) return make(message, exitCode);
  const failure = new StageError(message);
  // Keep the recorded name even for failures without a class of their own (UnsafeArchive, SnapshotTooLarge).
  Object.defineProperty(failure, 'name', { value: errorName });
  return failure;
}
