/**
 * `resources: auto`: a stage sized from what it measured (domain/sizing/right-size.ts). With
 * history, its memory becomes the measured peak plus 30 % (at least 512 MiB) and, where a runner
 * measured CPU, its CPU the peak vCPUs plus 25 % (a quarter vCPU steps, at least 0.25); the
 * planner then picks the cheapest Fargate pair or the Lambda tier (1769 MB a vCPU) that covers
 * both. Where CPU was not measured it stays as the defaults give it. Disk has its own check against
 * the Lambda runner's /tmp. Without history, the defaults: the first run measures the stage.
 *
 * It converges: a stage that uses all the CPU it was given measures a peak at that size, and its
 * 25 % headroom asks for more next time, until it no longer uses it all; an idle one shrinks to
 * the floor. (History ages the peak by 10 % a run, so a stage that got lighter shrinks again.)
 */
import { formatMiB } from '../pipeline/units.js';
import type { StageSpec } from '../pipeline/types.js';
import { neededResources } from '../sizing/right-size.js';
import type { StageHistory } from './types.js';

export function applyAutoResources(stage: StageSpec, history: StageHistory | undefined): { stage: StageSpec; applied?: string } {
  if (!stage.resourcesAuto || !history || !(history.peakMemoryMiB > 0)) return { stage };
  const cpu = history.peakVcpu !== undefined ? { peakVcpu: history.peakVcpu, averageVcpu: history.averageVcpu ?? history.peakVcpu } : undefined;
  const need = neededResources({ requestedCpu: stage.resources.cpu, peakMemoryMiB: history.peakMemoryMiB, ...(cpu ? { cpu } : {}) });
  const memory = `memory ${need.memoryMiB} MiB from a measured peak of ${Math.round(history.peakMemoryMiB)} MiB + 30% (${formatMiB(need.memoryMiB)})`;
  const cpuText = cpu ? `, cpu ${need.cpu} from a measured peak of ${cpu.peakVcpu.toFixed(2)} vCPU + 25%` : '';
  return {
    stage: {
      ...stage,
      resources: { ...stage.resources, memoryMiB: need.memoryMiB, ...(cpu ? { cpu: need.cpu } : {}) },
      explicit: { ...stage.explicit, memory: true, ...(cpu ? { cpu: true } : {}) },
    },
    applied: `resources: auto: ${memory}${cpuText}`,
  };
}
