import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../../functions/domain/plan/planner.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../../functions/domain/pricing/price-book.js';
import { recommendSize } from '../../../functions/domain/sizing/right-size.js';

const prices = regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1');
const fargate = (cpu: number, memory: number) => ({ cpu, memory, ephemeralStorageGiB: 20, architecture: 'x86_64' as const, spot: false });

describe('Function: recommendSize', () => {
  it('Fargate, CPU not measured: keeps 2 vCPU, cuts 8 GiB to the 4 GiB minimum of that row (hand-computed)', () => {
    // Peak 1000 MiB + 30% = 1300 MiB; 2 vCPU as asked -> 2048/4096, the cheapest pair that covers it.
    // 600 s + 20 s pull = 620 s: (2 x 0.04048 + 8 x 0.004445) x 620/3600 = $0.0200673;
    // (2 x 0.04048 + 4 x 0.004445) x 620/3600 = $0.0170052; saving $0.0030621.
    const r = recommendSize({ name: 'test', runner: 'fargate', fargate: fargate(2048, 8192), durationMs: 600_000, peakMemoryMiB: 1000 }, prices)!;
    expect(r).toMatchObject({ current: 'Fargate 2 vCPU / 8192 MiB', recommended: 'Fargate 2 vCPU / 4096 MiB', resources: { cpu: 2, memoryMiB: 1300 } });
    expect(r.currentUsd).toBeCloseTo(0.0200673, 6);
    expect(r.recommendedUsd).toBeCloseTo(0.0170052, 6);
    expect(r.savingUsd).toBeCloseTo(0.0030621, 6);
    expect(r.basis).toBe('peak 1000 MiB + 30%, cpu 2 as asked (not measured)');
  });

  it('Lambda, CPU measured at 0.5 vCPU: 4096 MB down to the 2048 MB tier (hand-computed)', () => {
    // 0.5 x 1.25 = 0.625 -> 0.75 vCPU -> 1327 MB of Lambda memory; peak 600 + 30% = 780 MB -> tier 2048.
    // 4 GB x 100 s x $0.0000166667 = $0.00666668 (+ $0.0000002 request) against 2 GB: saving $0.00333334.
    const r = recommendSize(
      { name: 'lint', runner: 'lambda', lambda: { memoryMB: 4096, ephemeralStorageMB: 512, architecture: 'x86_64' }, fargate: fargate(1024, 2048), durationMs: 100_000, peakMemoryMiB: 600, cpuSeconds: 50 },
      prices,
    )!;
    expect(r).toMatchObject({ current: 'Lambda 4096 MB', recommended: 'Lambda 2048 MB', resources: { cpu: 0.75, memoryMiB: 780 } });
    expect(r.savingUsd).toBeCloseTo(0.00333334, 8);
  });

  it('recommends nothing when the stage is already the cheapest fit, or nothing was measured', () => {
    expect(recommendSize({ name: 's', runner: 'fargate', fargate: fargate(1024, 2048), durationMs: 60_000, peakMemoryMiB: 1800 }, prices)).toBeUndefined();
    expect(recommendSize({ name: 's', runner: 'fargate', fargate: fargate(2048, 8192), durationMs: 60_000, peakMemoryMiB: 0 }, prices)).toBeUndefined();
  });
});

describe('resources: auto (planner)', () => {
  const yaml = 'version: 1\nstages:\n  build:\n    commands: [make]\n    runner: fargate\n    resources: auto\n';
  const plan = (peakMemoryMiB?: number) =>
    planPipeline(parsePipeline(yaml), { event: 'push', branch: 'main' }, { region: 'us-east-1', lambdaEphemeralStorageMB: 512 }, {
      prices: DEFAULT_PRICE_BOOK,
      ...(peakMemoryMiB ? { history: { build: { durationsMs: [120_000], peakMemoryMiB, peakDiskMiB: 10, escalated: false } } } : {}),
    }).stages[0]!;

  it('starts from the defaults, then sizes memory from the measured peak: 3000 MiB + 30% = 3900 MiB -> 1 vCPU / 4 GiB', () => {
    expect(plan().fargate).toMatchObject({ cpu: 1024, memory: 2048 });
    const sized = plan(3000);
    expect(sized.fargate).toMatchObject({ cpu: 1024, memory: 4096 });
    expect(sized.autoSized).toBe('resources: auto: memory 3900 MiB from a measured peak of 3000 MiB + 30% (3.81 GiB)');
  });

  it('an unknown word in resources is an error naming the file, line and field', () => {
    expect(() => parsePipeline('version: 1\nstages:\n  build:\n    commands: [make]\n    resources: automatic\n', 'ci/.buildfarm.yml')).toThrow(/ci\/\.buildfarm\.yml:5:\d+ stages\.build\.resources/);
  });
});
