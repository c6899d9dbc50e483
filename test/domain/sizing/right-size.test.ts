import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../../functions/domain/plan/planner.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../../functions/domain/pricing/price-book.js';
import { describeRightSizing, recommendSize } from '../../../functions/domain/sizing/right-size.js';

const prices = regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1');
const lambda = (memoryMB: number) => ({ memoryMB, ephemeralStorageMB: 512, architecture: 'x86_64' as const });
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

  it('Lambda, CPU measured at a peak of 0.5 vCPU: 4096 MB down to the 2048 MB tier (hand-computed)', () => {
    // 0.5 x 1.25 = 0.625 -> 0.75 vCPU -> 1327 MB of Lambda memory; peak 600 + 30% = 780 MB -> tier 2048.
    // 4 GB x 100 s x $0.0000166667 = $0.00666668 (+ $0.0000002 request) against 2 GB: saving $0.00333334.
    const r = recommendSize(
      { name: 'lint', runner: 'lambda', lambda: lambda(4096), fargate: fargate(1024, 2048), durationMs: 100_000, peakMemoryMiB: 600, cpu: { peakVcpu: 0.5, averageVcpu: 0.4 } },
      prices,
    )!;
    expect(r).toMatchObject({ current: 'Lambda 4096 MB (2.32 vCPU)', recommended: 'Lambda 2048 MB (1.16 vCPU)', direction: 'smaller', resources: { cpu: 0.75, memoryMiB: 780 } });
    expect(r.savingUsd).toBeCloseTo(0.00333334, 8);
    expect(r.basis).toBe('peak 600 MiB + 30%, peak 0.50 vCPU (average 0.40) + 25%');
  });

  it('Fargate, CPU idle (peak 0.05 vCPU): 2 vCPU / 4 GiB down to 0.25 vCPU / 512 MiB (hand-computed)', () => {
    // CPU 0.05 x 1.25 -> the 0.25 floor; memory 300 + 30% = 390 -> the 512 MiB floor; the pair 256/512.
    // 620 s billed: (2 x 0.04048 + 4 x 0.004445) x 620/3600 = $0.0170052; (0.25 x 0.04048 + 0.5 x 0.004445) x 620/3600 = $0.00212565.
    const r = recommendSize({ name: 'wait', runner: 'fargate', fargate: fargate(2048, 4096), durationMs: 600_000, peakMemoryMiB: 300, cpu: { peakVcpu: 0.05, averageVcpu: 0.01 } }, prices)!;
    expect(r).toMatchObject({ current: 'Fargate 2 vCPU / 4096 MiB', recommended: 'Fargate 0.25 vCPU / 512 MiB', direction: 'smaller', resources: { cpu: 0.25, memoryMiB: 512 } });
    expect(r.currentUsd).toBeCloseTo(0.0170052, 6);
    expect(r.recommendedUsd).toBeCloseTo(0.00212565, 7);
    expect(r.savingUsd).toBeCloseTo(0.0148796, 6);
  });

  it('Fargate, CPU-bound (peak 1.0 of its 1 vCPU): up to 2 vCPU / 4 GiB, adding at most $0.0085026 at the same duration (hand-computed)', () => {
    // 1.0 x 1.25 = 1.25 vCPU: no pair of 1 vCPU covers it; the cheapest with 1280+ units is 2048/4096 (its smallest memory).
    // 620 s: (1 x 0.04048 + 2 x 0.004445) x 620/3600 = $0.00850261 against $0.0170052.
    const r = recommendSize({ name: 'compile', runner: 'fargate', fargate: fargate(1024, 2048), durationMs: 600_000, peakMemoryMiB: 1000, cpu: { peakVcpu: 1.0, averageVcpu: 0.95 } }, prices)!;
    expect(r).toMatchObject({ recommended: 'Fargate 2 vCPU / 4096 MiB', direction: 'larger', resources: { cpu: 1.25, memoryMiB: 1300 } });
    expect(r.savingUsd).toBeCloseTo(-0.00850261, 7);
    expect(describeRightSizing(r)).toContain('adds at most $0.008503 a run at the same duration');
  });

  it('Lambda, CPU-bound (peak 1.15 of the 1.16 vCPU of 2048 MB): the 4096 MB tier, or nothing when 2048 MB is the largest deployed', () => {
    // 1.15 x 1.25 = 1.4375 -> 1.5 vCPU -> 2654 MB -> tier 4096. At 100 s: 2 GB $0.00333334 against 4 GB $0.00666668.
    const stage = { name: 'test', runner: 'lambda' as const, lambda: lambda(2048), fargate: fargate(1024, 2048), durationMs: 100_000, peakMemoryMiB: 700, cpu: { peakVcpu: 1.15, averageVcpu: 1.1 } };
    const r = recommendSize(stage, prices)!;
    expect(r).toMatchObject({ recommended: 'Lambda 4096 MB (2.32 vCPU)', direction: 'larger', resources: { cpu: 1.5, memoryMiB: 910 } });
    expect(r.savingUsd).toBeCloseTo(-0.00333334, 8);
    expect(recommendSize(stage, prices, [1024, 2048])).toBeUndefined();
  });

  it('never larger without evidence: CPU not measured keeps a Lambda stage on its tier; a memory peak near the tier moves it up', () => {
    // Unmeasured, the CPU asked for (1 vCPU -> 1769 MB) would need 2048 MB: not a reason to grow a 1024 MB stage.
    expect(recommendSize({ name: 's', runner: 'lambda', lambda: lambda(1024), fargate: fargate(1024, 2048), durationMs: 60_000, peakMemoryMiB: 300 }, prices)).toBeUndefined();
    // 900 MiB + 30% = 1170 MiB does not fit in 1024 MB.
    expect(recommendSize({ name: 's', runner: 'lambda', lambda: lambda(1024), fargate: fargate(1024, 2048), durationMs: 60_000, peakMemoryMiB: 900 }, prices)).toMatchObject({ recommended: 'Lambda 2048 MB (1.16 vCPU)', direction: 'larger' });
  });

  it('recommends nothing when the stage is already the cheapest fit, or nothing was measured', () => {
    expect(recommendSize({ name: 's', runner: 'fargate', fargate: fargate(1024, 2048), durationMs: 60_000, peakMemoryMiB: 1500 }, prices)).toBeUndefined();
    expect(recommendSize({ name: 's', runner: 'fargate', fargate: fargate(2048, 8192), durationMs: 60_000, peakMemoryMiB: 0 }, prices)).toBeUndefined();
  });
});

describe('resources: auto (planner)', () => {
  const yaml = 'version: 1\nstages:\n  build:\n    commands: [make]\n    runner: fargate\n    resources: auto\n';
  const plan = (peakMemoryMiB?: number, cpu?: { peakVcpu: number; averageVcpu: number }, text = yaml) =>
    planPipeline(parsePipeline(text), { event: 'push', branch: 'main' }, { region: 'us-east-1', lambdaEphemeralStorageMB: 512 }, {
      prices: DEFAULT_PRICE_BOOK,
      ...(peakMemoryMiB ? { history: { build: { durationsMs: [120_000], peakMemoryMiB, peakDiskMiB: 10, escalated: false, ...(cpu ?? {}) } } } : {}),
    }).stages[0]!;

  it('starts from the defaults, then sizes memory from the measured peak: 3000 MiB + 30% = 3900 MiB -> 1 vCPU / 4 GiB', () => {
    expect(plan().fargate).toMatchObject({ cpu: 1024, memory: 2048 });
    const sized = plan(3000);
    expect(sized.fargate).toMatchObject({ cpu: 1024, memory: 4096 });
    expect(sized.autoSized).toBe('resources: auto: memory 3900 MiB from a measured peak of 3000 MiB + 30% (3.81 GiB)');
  });

  it('sizes CPU from the measured peak vCPUs: 2.0 -> 2.5 vCPU -> 4 vCPU / 8 GiB; 0.05 -> 0.25 vCPU / 512 MiB', () => {
    const busy = plan(3000, { peakVcpu: 2.0, averageVcpu: 1.8 });
    expect(busy.fargate).toMatchObject({ cpu: 4096, memory: 8192 });
    expect(busy.autoSized).toBe('resources: auto: memory 3900 MiB from a measured peak of 3000 MiB + 30% (3.81 GiB), cpu 2.5 from a measured peak of 2.00 vCPU + 25%');
    expect(plan(200, { peakVcpu: 0.05, averageVcpu: 0.02 }).fargate).toMatchObject({ cpu: 256, memory: 512 });
  });

  it('on Lambda the tier covers the CPU: 2.0 vCPU -> 2.5 x 1769 = 4423 MB -> 6144 MB; idle -> 1024 MB', () => {
    const onLambda = yaml.replace('runner: fargate', 'runner: lambda');
    expect(plan(400, { peakVcpu: 2.0, averageVcpu: 1.9 }, onLambda).lambda?.memoryMB).toBe(6144);
    expect(plan(400, { peakVcpu: 0.05, averageVcpu: 0.02 }, onLambda).lambda?.memoryMB).toBe(1024);
  });

  it('an unknown word in resources is an error naming the file, line and field', () => {
    expect(() => parsePipeline('version: 1\nstages:\n  build:\n    commands: [make]\n    resources: automatic\n', 'ci/.buildfarm.yml')).toThrow(/ci\/\.buildfarm\.yml:5:\d+ stages\.build\.resources/);
  });
});
