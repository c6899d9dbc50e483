/** Lint rules for sizes and timeouts no runner can provide (whichever runner the stage gets). */
import { MAX_CPU_VCPU, MAX_DISK_MIB, MAX_FARGATE_MEMORY_MIB, MAX_TIMEOUT_SECONDS, MIN_CPU_VCPU, MIN_MEMORY_MIB } from './limits.js';
import { eachStage, stageKey, written, type LintRule } from './lint-rule.js';
import { formatMiB, formatSeconds } from './units.js';

export const SIZE_LINT_RULES: readonly LintRule[] = [
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
];
