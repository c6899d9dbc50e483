/**
 * Right-sizing: from a stage's measured peak memory (the process tree's peak RSS) and, where the
 * runner measured it, its peak vCPUs (domain/sizing/cpu-usage.ts), the cheapest Lambda tier or
 * Fargate pair that fits with headroom, and what it would save (or add) at the measured duration.
 *
 * The rule (docs/cost.md, "Right-sizing"):
 * - Memory: the peak plus MEMORY_HEADROOM (30 %), at least MIN_MEMORY_MIB.
 * - CPU: the peak vCPUs (the highest over 1 s windows) plus CPU_HEADROOM (25 %), rounded up to a
 *   quarter vCPU, at least MIN_VCPU. Not measured: the CPU the stage asks for (the farm does not
 *   guess that a build is idle).
 * - Fargate: the cheapest valid CPU/memory pair covering both (choose-fargate-size.ts).
 * - Lambda: CPU comes with memory, 1 vCPU per 1769 MB up to 6 vCPU at 10,240 MB
 *   (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so the tier is the
 *   smallest deployed one with memory for both: an idle stage may drop a tier, a CPU-bound one
 *   may need a bigger one. Over the largest deployed tier: that tier.
 * A smaller size is recommended with its saving at the measured duration: covering the peak with
 * headroom, the stage is assumed to run as fast. A larger size (the stage's CPU or memory peak is
 * close to what its size gives) is shown with what it adds at the measured duration, an upper
 * bound: a CPU-bound stage runs shorter on more vCPUs (on Lambda, about as much shorter as the
 * tier is bigger, so its cost stays about the same).
 */
import type { FargateSize, LambdaSize, Runner } from '../plan/types.js';
import { FARGATE_BILLED_STARTUP_MS, fargateCost, fargateHourlyUsd, lambdaCost } from '../pricing/cost.js';
import type { RegionPrices } from '../pricing/price-book.js';
import { chooseFargateSize, NoFargateSize } from './choose-fargate-size.js';
import { LAMBDA_MB_PER_VCPU, LAMBDA_MAX_VCPU, LAMBDA_RUNNER_TIERS_MB, lambdaMemoryNeeded, lambdaTierFor } from './lambda-sizes.js';

export const MEMORY_HEADROOM = 1.3;
export const CPU_HEADROOM = 1.25;
export const MIN_MEMORY_MIB = 512;
/** Fargate's smallest CPU (256 units). */
export const MIN_VCPU = 0.25;

export interface RightSizing {
  stage: string;
  runner: Runner;
  current: string;
  recommended: string;
  /** `smaller` saves money at the same speed; `larger` gives a stage that uses all it has more room. */
  direction: 'smaller' | 'larger';
  /** The stage at its measured duration on its current size, and on the recommended one. */
  currentUsd: number;
  recommendedUsd: number;
  /** currentUsd - recommendedUsd: negative for a larger size (what it adds at the same duration, at most). */
  savingUsd: number;
  /** What the recommendation rests on, in words. */
  basis: string;
  /** The resources to write in the pipeline file (or what `resources: auto` applies). */
  resources: { cpu: number; memoryMiB: number };
}

/** What a runner measured of a stage's CPU: the peak and average vCPUs in use. */
export interface MeasuredCpu {
  peakVcpu: number;
  averageVcpu: number;
}

export interface MeasuredStage {
  name: string;
  runner: Runner;
  lambda?: LambdaSize;
  fargate: FargateSize;
  durationMs: number;
  peakMemoryMiB: number;
  /** Absent where no runner measured CPU. */
  cpu?: MeasuredCpu;
}

export interface NeededResources {
  cpu: number;
  memoryMiB: number;
  cpuMeasured: boolean;
  basis: string;
}

const quarterUp = (vcpu: number): number => Math.ceil(vcpu * 4 - 1e-9) / 4;

/** The resources a stage needs from its measured peaks, with headroom. */
export function neededResources(stage: { requestedCpu: number; peakMemoryMiB: number; cpu?: MeasuredCpu }): NeededResources {
  const memoryMiB = Math.max(MIN_MEMORY_MIB, Math.ceil(stage.peakMemoryMiB * MEMORY_HEADROOM));
  const memoryBasis = `peak ${Math.round(stage.peakMemoryMiB)} MiB + 30%`;
  if (!stage.cpu) return { cpu: stage.requestedCpu, memoryMiB, cpuMeasured: false, basis: `${memoryBasis}, cpu ${stage.requestedCpu} as asked (not measured)` };
  const cpu = Math.max(MIN_VCPU, quarterUp(stage.cpu.peakVcpu * CPU_HEADROOM));
  return { cpu, memoryMiB, cpuMeasured: true, basis: `${memoryBasis}, peak ${stage.cpu.peakVcpu.toFixed(2)} vCPU (average ${stage.cpu.averageVcpu.toFixed(2)}) + 25%` };
}

const round = (n: number): number => Number(n.toPrecision(6));

/** The vCPUs a Lambda tier gives (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
export function lambdaVcpus(memoryMB: number): number {
  return Math.min(LAMBDA_MAX_VCPU, memoryMB / LAMBDA_MB_PER_VCPU);
}

/** Another size, or undefined when the stage's size already is the cheapest that fits (or nothing was measured). */
export function recommendSize(stage: MeasuredStage, prices: RegionPrices, lambdaTiersMB?: readonly number[]): RightSizing | undefined {
  if (!(stage.peakMemoryMiB > 0) || !(stage.durationMs > 0)) return undefined;
  const need = neededResources({ requestedCpu: stage.fargate.cpu / 1024, peakMemoryMiB: stage.peakMemoryMiB, cpu: stage.cpu });
  if (stage.runner === 'lambda' && stage.lambda) return recommendLambda(stage, stage.lambda, need, prices, lambdaTiersMB);
  return recommendFargate(stage, need, prices);
}

function recommendLambda(stage: MeasuredStage, current: LambdaSize, need: NeededResources, prices: RegionPrices, lambdaTiersMB?: readonly number[]): RightSizing | undefined {
  const tiers = lambdaTiersMB ?? LAMBDA_RUNNER_TIERS_MB;
  const tier = lambdaTierFor(lambdaMemoryNeeded(need.cpu, need.memoryMiB), tiers) ?? Math.max(...tiers);
  if (tier === current.memoryMB) return undefined;
  if (tier > current.memoryMB && !outgrows(need, lambdaVcpus(current.memoryMB), current.memoryMB)) return undefined;
  const currentUsd = lambdaCost(current, stage.durationMs, prices).costUsd;
  const recommendedUsd = lambdaCost({ ...current, memoryMB: tier }, stage.durationMs, prices).costUsd;
  const describe = (mb: number) => `Lambda ${mb} MB (${lambdaVcpus(mb).toFixed(2)} vCPU)`;
  return result(stage, describe(current.memoryMB), describe(tier), tier > current.memoryMB, currentUsd, recommendedUsd, need);
}

function recommendFargate(stage: MeasuredStage, need: NeededResources, prices: RegionPrices): RightSizing | undefined {
  let pair: FargateSize;
  try {
    pair = chooseFargateSize({ cpu: need.cpu, memoryMiB: need.memoryMiB, diskMiB: 0 }, { architecture: stage.fargate.architecture, spot: stage.fargate.spot }, prices);
  } catch (error) {
    // Measured on a machine bigger than any Fargate task: the largest pair is all there is.
    if (error instanceof NoFargateSize) return undefined;
    throw error;
  }
  const hourly = (s: { cpu: number; memory: number }) => fargateHourlyUsd(s.cpu, s.memory, prices, stage.fargate.architecture);
  if (hourly(pair) === hourly(stage.fargate)) return undefined;
  if (hourly(pair) > hourly(stage.fargate) && !outgrows(need, stage.fargate.cpu / 1024, stage.fargate.memory)) return undefined;
  const billed = stage.durationMs + FARGATE_BILLED_STARTUP_MS;
  const currentUsd = fargateCost(stage.fargate, billed, prices).costUsd;
  const recommendedUsd = fargateCost({ ...stage.fargate, cpu: pair.cpu, memory: pair.memory }, billed, prices).costUsd;
  const describe = (s: { cpu: number; memory: number }) => `Fargate ${s.cpu / 1024} vCPU / ${s.memory} MiB`;
  return result(stage, describe(stage.fargate), describe(pair), hourly(pair) > hourly(stage.fargate), currentUsd, recommendedUsd, need);
}

/**
 * A larger size only on evidence: the measured CPU peak with headroom is more than the size gives,
 * or the memory peak with headroom is. (Unmeasured CPU never makes a size larger: the CPU asked
 * for, turned into Lambda memory, may be above a tier the planner chose for other reasons.)
 */
function outgrows(need: NeededResources, vcpus: number, memoryMiB: number): boolean {
  return (need.cpuMeasured && need.cpu > vcpus) || need.memoryMiB > memoryMiB;
}

function result(stage: MeasuredStage, current: string, recommended: string, larger: boolean, currentUsd: number, recommendedUsd: number, need: NeededResources): RightSizing {
  return {
    stage: stage.name,
    runner: stage.runner,
    current,
    recommended,
    direction: larger ? 'larger' : 'smaller',
    currentUsd: round(currentUsd),
    recommendedUsd: round(recommendedUsd),
    savingUsd: round(currentUsd - recommendedUsd),
    basis: need.basis,
    resources: { cpu: need.cpu, memoryMiB: need.memoryMiB },
  };
}

const usd = (n: number): string => (n < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(4)}`);

export function describeRightSizing(r: RightSizing): string {
  const effect =
    r.direction === 'larger'
      ? `adds at most ${usd(-r.savingUsd)} a run at the same duration (it uses what it has: more room runs a CPU-bound stage shorter)`
      : `saves ${usd(r.savingUsd)} a run`;
  return `${r.stage}: ${r.current} -> ${r.recommended} ${effect} (${r.basis}; resources: { cpu: ${r.resources.cpu}, memory: ${r.resources.memoryMiB}MiB } or resources: auto)`;
}

export function rightSizingLines(list: readonly RightSizing[]): string[] {
  return ['right-sizing (from measured peaks):', ...list.map((r) => `  ${describeRightSizing(r)}`)];
}
