/**
 * How long the `Run Fargate task` state waits for a task: the stage's own timeout plus the
 * task's overhead around the commands (placement, image pull, the fetch and publish helpers).
 *
 * The build container stops its own commands at the stage's timeout (stage-script.ts), so a
 * stage that runs too long ends as `timed_out` with its log and result published. The state's
 * timeout (`TimeoutSecondsPath`) is the backstop for a task that never gets that far: Step
 * Functions fails the state with `States.Timeout`, which `Record stage error` records as
 * `timed_out`. Whether Step Functions also stops the task then is not documented for a state
 * timeout (it holds `ecs:StopTask` for tasks it started:
 * https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html), which is why the build
 * container enforces the limit itself.
 */

/**
 * Placement and image pull of a large image (several GiB at Fargate's pull rates) take minutes;
 * fetch and publish move the workspace and artifacts through S3. 30 minutes covers both ends.
 */
export const FARGATE_TASK_OVERHEAD_SECONDS = 1800;

/** The `Run Fargate task` state's timeout for a stage with this timeout. */
export function fargateStateTimeoutSeconds(stageTimeoutSeconds: number): number {
  return Math.ceil(stageTimeoutSeconds) + FARGATE_TASK_OVERHEAD_SECONDS;
}

/** The exit code of the build container when the stage's timeout stopped it (as GNU timeout(1) uses). */
export const STAGE_TIMEOUT_EXIT_CODE = 124;
