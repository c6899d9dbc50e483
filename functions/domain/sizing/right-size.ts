/**
 * Right-sizing: from a stage's measured peak memory (the agent records the process tree's peak
 * RSS) and, when measured, its CPU time, the cheapest Lambda tier or Fargate pair that fits with
 * headroom, and what it would save at the stage's measured duration.
 *
 * - Memory: the peak plus MEMORY_HEADROOM (30 %), at least MIN_MEMORY_MIB.
 * - CPU: with a CPU-time measurement, the average vCPU in use plus CPU_HEADROOM (25 %), at least
 *   0.25; without one, the CPU the stage asked for (the farm does not guess that a build is idle).
 * - On Lambda, CPU comes with memory (1769 MB per vCPU), so the tier covers both.
 * The duration is assumed unchanged, which holds while the CPU is not cut: only memory is cut
 * when CPU was not measured.
 */
import type { FargateSize, LambdaSize, Runner } from '../plan/types.js';
import { FARGATE_BILLED_STARTUP_MS, fargateCost, fargateHourlyUsd, lambdaCost } from '../pricing/cost.js';
import type { RegionPrices } from '../pricing/price-book.js';
import { chooseFargateSize } from './choose-fargate-size.js';
import { lambdaMemoryNeeded, lambdaTierFor } from './lambda-sizes.js';

export const MEMORY_HEADROOM = 1.3;
export const CPU_HEADROOM = 1.25;
export const MIN_MEMORY_MIB = 512;

export interface RightSizing {
  stage: string;
  runner: Runner;
  current: string;
  recommended: string;
  /** The stage at its measured duration on its current size, and on the recommended one. */
  currentUsd: number;
  recommendedUsd: number;
  savingUsd: number;
  /** What the recommendation rests on, in words. */
  basis: string;
  /** The resources to write in the pipeline file (or what `resources: auto` applies). */
  resources: { cpu: number; memoryMiB: number };
}

export interface MeasuredStage {
  name: string;
  runner: Runner;
  lambda?: LambdaSize;
  fargate: FargateSize;
  durationMs: number;
  peakMemoryMiB: number;
  /** CPU seconds the stage's processes used, when measured. */
  cpuSeconds?: number;
}

/** The resources a stage needs from its measured peaks, with headroom. */
export function neededResources(stage: { requestedCpu: number } & Pick<MeasuredStage, 'durationMs' | 'peakMemoryMiB' | 'cpuSeconds'>): { cpu: number; memoryMiB: number; basis: string } {
  const memoryMiB = Math.max(MIN_MEMORY_MIB, Math.ceil(stage.peakMemoryMiB * MEMORY_HEADROOM));
  const measuredCpu = stage.cpuSeconds !== undefined && stage.durationMs > 0 ? stage.cpuSeconds / (stage.durationMs / 1000) : undefined;
  const cpu = measuredCpu === undefined ? stage.requestedCpu : Math.max(0.25, Math.ceil(measuredCpu * CPU_HEADROOM * 4) / 4);
  const cpuBasis = measuredCpu === undefined ? `cpu ${cpu} as asked (not measured)` : `average ${measuredCpu.toFixed(2)} vCPU + 25%`;
  return { cpu, memoryMiB, basis: `peak ${Math.round(stage.peakMemoryMiB)} MiB + 30%, ${cpuBasis}` };
}

const round = (n: number): number => Number(n.toPrecision(6));

/** The cheaper size, or undefined when the stage's size is already the cheapest that fits (or nothing was measured). */
export function recommendSize(stage: MeasuredStage, prices: RegionPrices, lambdaTiersMB?: readonly number[]): RightSizing | undefined {
  if (!(stage.peakMemoryMiB > 0) || !(stage.durationMs > 0)) return undefined;
  const need = neededResources({ ...stage, requestedCpu: stage.fargate.cpu / 1024 });
  if (stage.runner === 'lambda' && stage.lambda) {
    const tier = lambdaTierFor(lambdaMemoryNeeded(need.cpu, need.memoryMiB), lambdaTiersMB);
    if (tier === undefined || tier >= stage.lambda.memoryMB) return undefined;
    const currentUsd = lambdaCost(stage.lambda, stage.durationMs, prices).costUsd;
    const recommendedUsd = lambdaCost({ ...stage.lambda, memoryMB: tier }, stage.durationMs, prices).costUsd;
    return result(stage, `Lambda ${stage.lambda.memoryMB} MB`, `Lambda ${tier} MB`, currentUsd, recommendedUsd, need);
  }
  const smaller = chooseFargateSize({ cpu: need.cpu, memoryMiB: need.memoryMiB, diskMiB: 0 }, { architecture: stage.fargate.architecture, spot: stage.fargate.spot }, prices);
  const hourly = (s: { cpu: number; memory: number }) => fargateHourlyUsd(s.cpu, s.memory, prices, stage.fargate.architecture);
  if (hourly(smaller) >= hourly(stage.fargate)) return undefined;
  const billed = stage.durationMs + FARGATE_BILLED_STARTUP_MS;
  const currentUsd = fargateCost(stage.fargate, billed, prices).costUsd;
  const recommendedUsd = fargateCost({ ...stage.fargate, cpu: smaller.cpu, memory: smaller.memory }, billed, prices).costUsd;
  const describe = (s: { cpu: number; memory: number }) => `Fargate ${s.cpu / 1024} vCPU / ${s.memory} MiB`;
  return result(stage, describe(stage.fargate), describe(smaller), currentUsd, recommendedUsd, need);
}

function result(stage: MeasuredStage, current: string, recommended: string, currentUsd: number, recommendedUsd: number, need: ReturnType<typeof neededResources>): RightSizing | undefined {
  const savingUsd = currentUsd - recommendedUsd;
  if (!(savingUsd > 0)) return undefined;
  return {
    stage: stage.name,
    runner: stage.runner,
    current,
    recommended,
    currentUsd: round(currentUsd),
    recommendedUsd: round(recommendedUsd),
    savingUsd: round(savingUsd),
    basis: need.basis,
    resources: { cpu: need.cpu, memoryMiB: need.memoryMiB },
  };
}

const usd = (n: number): string => (n < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(4)}`);

export function describeRightSizing(r: RightSizing): string {
  return `${r.stage}: ${r.current} -> ${r.recommended} saves ${usd(r.savingUsd)} a run (${r.basis}; resources: { cpu: ${r.resources.cpu}, memory: ${r.resources.memoryMiB}MiB } or resources: auto)`;
}

export function rightSizingLines(list: readonly RightSizing[]): string[] {
  return ['right-sizing (from measured peaks):', ...list.map((r) => `  ${describeRightSizing(r)}`)];
}
