import type { PipelineIssue } from '../errors.js';
import { showValue, type FieldSites } from './field-sites.js';
import {
  LAMBDA_MAX_EPHEMERAL_MB,
  LAMBDA_MAX_MEMORY_MB,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  LAMBDA_PLANNABLE_SECONDS,
  LAMBDA_SAFETY_MARGIN_SECONDS,
  LAMBDA_MAX_VCPU,
  MAX_CPU_VCPU,
  MAX_DISK_MIB,
  MAX_FARGATE_MEMORY_MIB,
  MAX_TIMEOUT_SECONDS,
  MIN_CPU_VCPU,
  MIN_MEMORY_MIB,
} from './limits.js';
import { CACHE_LINT_RULES } from './lint-cache.js';
import { findCycles } from './needs-graph.js';
import type { Pipeline, StageSpec } from './types.js';
import { formatMiB, formatSeconds } from './units.js';

/**
 * Checks that need the parsed pipeline as a whole: the `needs` graph, sizes
 * no runner can provide, and combinations a runner cannot honour. One rule per
 * entry; each message says what is wrong and what is allowed. Limits that
 * depend on the farm's configuration (its Lambda /tmp size) belong to the
 * planner, not here.
 */

export interface LintRule {
  /** Stable id; test/fixtures/lint/<id>.yml shows the rule firing. */
  id: string;
  summary: string;
  check(pipeline: Pipeline, sites: FieldSites): PipelineIssue[];
}

/** Stage names become S3 key segments and shell-safe names. */
export const STAGE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** POSIX portable environment variable names. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const USE_FARGATE = 'use runner: fargate (or auto)';

export const LINT_RULES: readonly LintRule[] = [
  {
    id: 'stage-name',
    summary: 'stage names are S3-key and shell safe',
    check: (pipeline, sites) =>
      pipeline.stages
        .filter((stage) => !STAGE_NAME_PATTERN.test(stage.name))
        .map((stage) =>
          sites.issue(
            stageKey(stage),
            `stage name ${JSON.stringify(stage.name)} is not allowed: stage names become S3 keys and shell-safe names, ` +
              'so they start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 64 characters)',
          ),
        ),
  },
  {
    id: 'needs-self',
    summary: 'a stage cannot need itself',
    check: (pipeline, sites) =>
      eachNeed(pipeline, (stage, need, index) =>
        need === stage.name
          ? sites.issue(`${stageKey(stage)}.needs[${index}]`, `stage ${JSON.stringify(stage.name)} needs itself; a stage cannot wait for its own result`)
          : undefined,
      ),
  },
  {
    id: 'needs-unknown',
    summary: 'needs name existing stages',
    check: (pipeline, sites) => {
      const known = new Set(pipeline.stages.map((stage) => stage.name));
      const list = pipeline.stages.map((stage) => stage.name).join(', ');
      return eachNeed(pipeline, (stage, need, index) =>
        known.has(need)
          ? undefined
          : sites.issue(
              `${stageKey(stage)}.needs[${index}]`,
              `stage ${JSON.stringify(stage.name)} needs ${JSON.stringify(need)}, which is not a stage; known stages: ${list}`,
            ),
      );
    },
  },
  {
    id: 'needs-cycle',
    summary: 'needs form a DAG',
    check: (pipeline, sites) =>
      findCycles(pipeline).map((cycle) => {
        const first = pipeline.stages.find((stage) => stage.name === cycle[0])!;
        const index = first.needs.indexOf(cycle[1]);
        return sites.issue(
          `${stageKey(first)}.needs[${index}]`,
          `cycle ${cycle.join(' -> ')}; stages must form a DAG, so remove one of these needs`,
        );
      }),
  },
  {
    id: 'cpu-range',
    summary: 'cpu between 0.25 and 16 vCPU',
    check: (pipeline, sites) =>
      eachStage(pipeline, (stage) => {
        const { cpu } = stage.resources;
        if (cpu >= MIN_CPU_VCPU && cpu <= MAX_CPU_VCPU) return undefined;
        const key = `${stageKey(stage)}.resources.cpu`;
        return sites.issue(key, `${written(sites, key, cpu)} vCPU is outside the sizes Fargate offers (${MIN_CPU_VCPU} to ${MAX_CPU_VCPU} vCPU)`);
      }),
  },
  {
    id: 'memory-too-large',
    summary: 'memory at most 120 GiB',
    check: (pipeline, sites) =>
      eachStage(pipeline, (stage) => {
        if (stage.resources.memoryMiB <= MAX_FARGATE_MEMORY_MIB) return undefined;
        const key = `${stageKey(stage)}.resources.memory`;
        return sites.issue(
          key,
          `${written(sites, key, formatMiB(stage.resources.memoryMiB))} is above the largest Fargate size (${formatMiB(MAX_FARGATE_MEMORY_MIB)})`,
        );
      }),
  },
  {
    id: 'memory-too-small',
    summary: 'memory at least 128 MiB',
    check: (pipeline, sites) =>
      eachStage(pipeline, (stage) => {
        if (stage.resources.memoryMiB >= MIN_MEMORY_MIB) return undefined;
        const key = `${stageKey(stage)}.resources.memory`;
        return sites.issue(
          key,
          `${written(sites, key, formatMiB(stage.resources.memoryMiB))} is below the smallest size any runner offers (${MIN_MEMORY_MIB} MiB, Lambda's minimum)`,
        );
      }),
  },
  {
    id: 'disk-too-large',
    summary: 'disk at most 200 GiB',
    check: (pipeline, sites) =>
      eachStage(pipeline, (stage) => {
        if (stage.resources.diskMiB <= MAX_DISK_MIB) return undefined;
        const key = `${stageKey(stage)}.resources.disk`;
        return sites.issue(
          key,
          `${written(sites, key, formatMiB(stage.resources.diskMiB))} is above the largest Fargate ephemeral storage (${formatMiB(MAX_DISK_MIB)})`,
        );
      }),
  },
  {
    id: 'timeout-range',
    summary: 'timeout above 0 and at most 24h',
    check: (pipeline, sites) =>
      eachStage(pipeline, (stage) => {
        const key = `${stageKey(stage)}.timeout`;
        const seconds = stage.timeoutSeconds;
        if (seconds === 0) return sites.issue(key, `${written(sites, key, 0)} would stop the stage before it starts; use a timeout of at least 1s (the default is 10m)`);
        if (seconds <= MAX_TIMEOUT_SECONDS) return undefined;
        return sites.issue(
          key,
          `${written(sites, key, formatSeconds(seconds))} is above the farm's limit of 24h per stage (a runaway stage keeps billing); split long work into stages`,
        );
      }),
  },
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
  {
    id: 'env-name',
    summary: 'env and secret names are valid environment variable names',
    check: (pipeline, sites) =>
      pipeline.stages.flatMap((stage) =>
        [
          ...Object.keys(stage.env).map((name) => `${stageKey(stage)}.env.${name}`),
          ...Object.keys(stage.secrets).map((name) => `${stageKey(stage)}.secrets.${name}`),
        ]
          .filter((key) => !ENV_NAME_PATTERN.test(key.slice(key.lastIndexOf('.') + 1)))
          .map((key) => {
            const name = key.slice(key.lastIndexOf('.') + 1);
            return sites.issue(
              key,
              `${JSON.stringify(name)} is not a valid environment variable name; use letters, digits and "_", not starting with a digit`,
            );
          }),
      ),
  },
  {
    id: 'env-secret-overlap',
    summary: 'a variable is either env or secret, not both',
    check: (pipeline, sites) =>
      pipeline.stages.flatMap((stage) =>
        Object.keys(stage.secrets)
          .filter((name) => Object.hasOwn(stage.env, name))
          .map((name) =>
            sites.issue(
              `${stageKey(stage)}.secrets.${name}`,
              `${JSON.stringify(name)} is set in both env (${sites.nearest(`${stageKey(stage)}.env.${name}`).path}) and secrets; ` +
                'a variable comes from one place, so remove one of them',
            ),
          ),
      ),
  },
  {
    id: 'artifact-path',
    summary: 'artifact globs stay inside the workspace',
    check: (pipeline, sites) =>
      pipeline.stages.flatMap((stage) =>
        stage.artifacts.flatMap((glob, index) => {
          const why = artifactProblem(glob);
          return why
            ? [sites.issue(`${stageKey(stage)}.artifacts[${index}]`, `${JSON.stringify(glob)} ${why}; artifacts are globs relative to the workspace, such as dist/** or reports/*.xml`)]
            : [];
        }),
      ),
  },
  ...CACHE_LINT_RULES,
];

/** Runs every rule; issues come back in rule order (parsePipeline sorts them by position). */
export function lintPipeline(pipeline: Pipeline, sites: FieldSites): PipelineIssue[] {
  return LINT_RULES.flatMap((rule) => rule.check(pipeline, sites));
}

function artifactProblem(glob: string): string | undefined {
  if (glob.trim() === '') return 'is empty';
  if (/^([/\\~]|[A-Za-z]:)/.test(glob)) return 'is absolute';
  if (glob.split(/[/\\]/).includes('..')) return 'leaves the workspace (it contains "..")';
  return undefined;
}

function stageKey(stage: StageSpec): string {
  return `stages.${stage.name}`;
}

function eachStage(pipeline: Pipeline, check: (stage: StageSpec) => PipelineIssue | undefined): PipelineIssue[] {
  return pipeline.stages.flatMap((stage) => check(stage) ?? []);
}

function lambdaStages(pipeline: Pipeline, check: (stage: StageSpec) => PipelineIssue | undefined): PipelineIssue[] {
  return eachStage({ ...pipeline, stages: pipeline.stages.filter((stage) => stage.runner === 'lambda') }, check);
}

function eachNeed(pipeline: Pipeline, check: (stage: StageSpec, need: string, index: number) => PipelineIssue | undefined): PipelineIssue[] {
  return pipeline.stages.flatMap((stage) => stage.needs.flatMap((need, index) => check(stage, need, index) ?? []));
}

/** The value as the user wrote it (`"200GB"`), or a formatted fallback. */
function written(sites: FieldSites, key: string, fallback: unknown): string {
  const site = sites.get(key);
  return site?.value !== undefined ? showValue(site.value) : showValue(fallback);
}

/** The value as written, naming `defaults` when the stage inherited it. */
function describe(sites: FieldSites, key: string, fallback: unknown): string {
  const site = sites.get(key);
  const value = written(sites, key, fallback);
  return site && site.path !== key ? `${value} (from ${site.path})` : value;
}
