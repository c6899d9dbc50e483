/**
 * Lint rules for `runner: lambda`: what Lambda cannot honour (custom images, long timeouts,
 * large sizes, Spot, root), each message offering Fargate instead. Limits that depend on the
 * farm's configuration (its Lambda /tmp size) belong to the planner, not here.
 */
import type { PipelineIssue } from '../errors.js';
import {
  LAMBDA_MAX_EPHEMERAL_MB,
  LAMBDA_MAX_MEMORY_MB,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  LAMBDA_PLANNABLE_SECONDS,
  LAMBDA_SAFETY_MARGIN_SECONDS,
  LAMBDA_MAX_VCPU,
} from './limits.js';
import { describe, eachStage, stageKey, type LintRule } from './lint-rule.js';
import type { Pipeline, StageSpec } from './types.js';
import { formatMiB, formatSeconds } from './units.js';

const USE_FARGATE = 'use runner: fargate (or auto)';

export const LAMBDA_LINT_RULES: readonly LintRule[] = [
  {
    id: 'lambda-image',
    summary: 'runner: lambda cannot use a custom image',
    check: (pipeline, sites) =>
      lambdaStages(pipeline, (stage) =>
        stage.image === undefined
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.runner`,
              `stage ${JSON.stringify(stage.name)} runs on Lambda but sets image ${describe(sites, `${stageKey(stage)}.image`, stage.image)}: ` +
                `Lambda runs in the runtime's own environment; custom images need Fargate. Remove image or ${USE_FARGATE}`,
            ),
      ),
  },
  {
    id: 'lambda-timeout',
    summary: 'runner: lambda needs a timeout of at most 14 minutes (Lambda\'s 900 s less a 60 s margin)',
    check: (pipeline, sites) =>
      lambdaStages(pipeline, (stage) =>
        stage.timeoutSeconds <= LAMBDA_PLANNABLE_SECONDS
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.runner`,
              `stage ${JSON.stringify(stage.name)} runs on Lambda but its timeout ${describe(sites, `${stageKey(stage)}.timeout`, formatSeconds(stage.timeoutSeconds))} ` +
                `is over the ${formatSeconds(LAMBDA_PLANNABLE_SECONDS)} a Lambda stage may run (Lambda's hard limit of ${LAMBDA_MAX_TIMEOUT_SECONDS} s less ${LAMBDA_SAFETY_MARGIN_SECONDS} s for the workspace and uploads). ` +
                  `Use a timeout of at most ${formatSeconds(LAMBDA_PLANNABLE_SECONDS)} or ${USE_FARGATE}`,
            ),
      ),
  },
  {
    id: 'lambda-memory',
    summary: 'runner: lambda needs memory of at most 10240 MB',
    check: (pipeline, sites) =>
      lambdaStages(pipeline, (stage) =>
        stage.resources.memoryMiB <= LAMBDA_MAX_MEMORY_MB
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.runner`,
              `stage ${JSON.stringify(stage.name)} runs on Lambda but asks for memory ${describe(sites, `${stageKey(stage)}.resources.memory`, formatMiB(stage.resources.memoryMiB))}; ` +
                `Lambda offers at most ${LAMBDA_MAX_MEMORY_MB} MB. Use at most ${LAMBDA_MAX_MEMORY_MB}MB or ${USE_FARGATE}`,
            ),
      ),
  },
  {
    id: 'lambda-cpu',
    summary: 'runner: lambda needs cpu of at most 6 vCPU',
    check: (pipeline, sites) =>
      lambdaStages(pipeline, (stage) =>
        stage.resources.cpu <= LAMBDA_MAX_VCPU
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.runner`,
              `stage ${JSON.stringify(stage.name)} runs on Lambda but asks for cpu ${describe(sites, `${stageKey(stage)}.resources.cpu`, stage.resources.cpu)}; ` +
                `Lambda offers at most ${LAMBDA_MAX_VCPU} vCPU (at ${LAMBDA_MAX_MEMORY_MB} MB). Use at most ${LAMBDA_MAX_VCPU} or ${USE_FARGATE}`,
            ),
      ),
  },
  {
    id: 'lambda-disk',
    summary: 'runner: lambda needs disk of at most 10240 MB',
    check: (pipeline, sites) =>
      lambdaStages(pipeline, (stage) =>
        stage.resources.diskMiB <= LAMBDA_MAX_EPHEMERAL_MB
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.runner`,
              `stage ${JSON.stringify(stage.name)} runs on Lambda but asks for disk ${describe(sites, `${stageKey(stage)}.resources.disk`, formatMiB(stage.resources.diskMiB))}; ` +
                `Lambda's /tmp holds at most ${LAMBDA_MAX_EPHEMERAL_MB} MB. Use at most ${LAMBDA_MAX_EPHEMERAL_MB}MB or ${USE_FARGATE}`,
            ),
      ),
  },
  {
    id: 'lambda-spot',
    summary: 'spot needs Fargate',
    check: (pipeline, sites) =>
      lambdaStages(pipeline, (stage) =>
        !stage.spot
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.spot`,
              `spot: true needs Fargate (Spot is Fargate capacity), but stage ${JSON.stringify(stage.name)} has runner: lambda. Remove spot or ${USE_FARGATE}`,
            ),
      ),
  },
  {
    id: 'lambda-run-as-root',
    summary: 'run-as-root needs Fargate',
    check: (pipeline, sites) =>
      lambdaStages(pipeline, (stage) =>
        !stage.runAsRoot
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.run-as-root`,
              `run-as-root applies to Fargate containers only; Lambda always runs commands as its own unprivileged user, ` +
                `and stage ${JSON.stringify(stage.name)} has runner: lambda. Remove run-as-root or ${USE_FARGATE}`,
            ),
      ),
  },
];

function lambdaStages(pipeline: Pipeline, check: (stage: StageSpec) => PipelineIssue | undefined): PipelineIssue[] {
  return eachStage({ ...pipeline, stages: pipeline.stages.filter((stage) => stage.runner === 'lambda') }, check);
}
