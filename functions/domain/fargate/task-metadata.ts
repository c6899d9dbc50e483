/**
 * Reading the build container's outcome from the task metadata endpoint v4
 * (`${ECS_CONTAINER_METADATA_URI_V4}/task`), which lists every container of the
 * task with its `KnownStatus` and, once stopped, its `ExitCode`.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html
 */
import { BUILD_CONTAINER } from './layout.js';

export interface MetadataContainer {
  Name: string;
  KnownStatus?: string;
  ExitCode?: number;
  StartedAt?: string;
  FinishedAt?: string;
}

export interface BuildOutcome {
  /** null when the container never ran (its image failed to pull, or fetch failed). */
  exitCode: number | null;
  startedAt?: string;
  finishedAt?: string;
}

export function buildOutcome(taskMetadata: unknown): BuildOutcome {
  const containers = (taskMetadata as { Containers?: MetadataContainer[] } | null)?.Containers ?? [];
  const build = containers.find((c) => c.Name === BUILD_CONTAINER);
  if (!build) return { exitCode: null };
  return {
    exitCode: typeof build.ExitCode === 'number' ? build.ExitCode : null,
    ...(build.StartedAt ? { startedAt: build.StartedAt } : {}),
    ...(build.FinishedAt ? { finishedAt: build.FinishedAt } : {}),
  };
}
