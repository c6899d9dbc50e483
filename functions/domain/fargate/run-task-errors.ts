/**
 * The error names the `arn:aws:states:::ecs:runTask.sync` integration fails a state with, as
 * AWS documents and reports them (not the names an SDK would throw):
 *
 * - `AmazonECS.Unknown`: RunTask answered HTTP 200 with a non-empty `Failures` list, which is how
 *   Fargate reports "Capacity is unavailable at this time" and other placement failures
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html, "Run a Job or Task
 *   Token: If a non-empty Failures field is encountered, the task is failed with an
 *   AmazonECS.Unknown error").
 * - `ECS.AmazonECSException`: an ECS error response without a modelled exception class, such as
 *   throttling (`ThrottlingException`) and the capacity error AWS support describes
 *   (https://repost.aws/knowledge-center/ecs-fargate-runtask-capacity).
 * - `ECS.ServerException`: HTTP 500 from RunTask, seen in real executions
 *   (wellcomecollection/catalogue-pipeline#3554: Step Functions spells the prefix `ECS.`).
 * - `States.TaskFailed`: the task ran and stopped unsuccessfully; the `Cause` is the task JSON
 *   (DescribeTasks), whose `StopCode` says why, `SpotInterruption` when Fargate Spot took the
 *   capacity back (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html).
 */
export const RUN_TASK_FAILURES = 'AmazonECS.Unknown';
export const ECS_UNMODELLED_ERROR = 'ECS.AmazonECSException';
export const ECS_SERVER_ERROR = 'ECS.ServerException';

/** Retried with jittered backoff, then (for a Spot stage) retried on on-demand. */
export const RUN_TASK_RETRYABLE: readonly string[] = [RUN_TASK_FAILURES, ECS_UNMODELLED_ERROR, ECS_SERVER_ERROR];

/** The stop code of a task Fargate Spot interrupted. */
export const SPOT_INTERRUPTION = 'SpotInterruption';

/** The text Fargate puts in a RunTask failure's `reason` when it has no capacity. */
export const CAPACITY_UNAVAILABLE = 'Capacity is unavailable at this time. Please try again later or in a different availability zone';

/**
 * The `Cause` Step Functions gives `AmazonECS.Unknown`: the RunTask response's failures. The
 * shape follows the ECS `Failure` type (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Failure.html).
 */
export function runTaskFailuresCause(reason: string, arn?: string): string {
  return JSON.stringify({ Failures: [{ ...(arn ? { Arn: arn } : {}), Reason: reason }], Tasks: [] });
}
