import type { Architecture, Resources } from '../pipeline/types.js';
import type { FargateSize } from '../plan/types.js';
import type { RegionPrices } from '../pricing/price-book.js';
import { fargateHourlyUsd } from '../pricing/cost.js';
import { FARGATE_PAIRS, fargateStorageGiB } from './fargate-sizes.js';

export class NoFargateSize extends Error {
  override readonly name = 'NoFargateSize';
}

/**
 * The cheapest valid CPU/memory pair that covers the request. Among pairs of equal
 * price (none today, but prices are data) the smaller CPU wins, for a stable choice.
 */
export function chooseFargateSize(
  req: Resources,
  options: { architecture: Architecture; spot: boolean },
  prices: RegionPrices,
): FargateSize {
  const cpuUnits = Math.ceil(req.cpu * 1024);
  let best: { cpu: number; memory: number; hourly: number } | undefined;
  for (const pair of FARGATE_PAIRS) {
    if (pair.cpu < cpuUnits || pair.memory < req.memoryMiB) continue;
    const hourly = fargateHourlyUsd(pair.cpu, pair.memory, prices, options.architecture);
    if (!best || hourly < best.hourly) best = { ...pair, hourly };
  }
  if (!best) {
    throw new NoFargateSize(`no Fargate size covers ${req.cpu} vCPU and ${req.memoryMiB} MiB (largest: 16 vCPU, 120 GiB)`);
  }
  return {
    cpu: best.cpu,
    memory: best.memory,
    ephemeralStorageGiB: fargateStorageGiB(req.diskMiB),
    architecture: options.architecture,
    spot: options.spot,
  };
}
