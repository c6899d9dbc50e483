/**
 * `resources: auto`: a stage sized from what it measured. With history, its memory becomes the
 * measured peak plus 30 % (at least 512 MiB; domain/sizing/right-size.ts), its CPU and disk stay
 * as the defaults give them (CPU is not measured yet, and disk has its own check against the
 * Lambda runner's /tmp). Without history, the defaults: the first run measures the stage.
 */
import { formatMiB } from '../pipeline/units.js';
import type { StageSpec } from '../pipeline/types.js';
import { neededResources } from '../sizing/right-size.js';
import type { StageHistory } from './types.js';

export function applyAutoResources(stage: StageSpec, history: StageHistory | undefined): { stage: StageSpec; applied?: string } {
  if (!stage.resourcesAuto || !history || !(history.peakMemoryMiB > 0)) return { stage };
  const need = neededResources({ requestedCpu: stage.resources.cpu, durationMs: 0, peakMemoryMiB: history.peakMemoryMiB });
  const memoryMiB = need.memoryMiB;
  return {
    stage: { ...stage, resources: { ...stage.resources, memoryMiB }, explicit: { ...stage.explicit, memory: true } },
    applied: `resources: auto: memory ${memoryMiB} MiB from a measured peak of ${Math.round(history.peakMemoryMiB)} MiB + 30% (${formatMiB(memoryMiB)})`,
  };
}
