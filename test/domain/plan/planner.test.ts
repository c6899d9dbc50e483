import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PipelineInvalid } from '../../../functions/domain/errors.js';
import { parsePipeline, parsePipelineWithSites } from '../../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../../functions/domain/plan/planner.js';
import type { PlannerConfig, StageHistory } from '../../../functions/domain/plan/types.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import {
  LAMBDA_MAX_MEMORY_MB,
  LAMBDA_MAX_STORAGE_MB,
  LAMBDA_MIN_MEMORY_MB,
  LAMBDA_MIN_STORAGE_MB,
  LAMBDA_RUNNER_TIERS_MB,
} from '../../../functions/domain/sizing/lambda-sizes.js';

const config: PlannerConfig = { region: 'us-east-1', lambdaEphemeralStorageMB: 512 };
const push = { event: 'push' as const, branch: 'main' };

function planOf(yaml: string, options: { history?: Record<string, StageHistory>; config?: PlannerConfig } = {}) {
  return planPipeline(parsePipeline(yaml), push, options.config ?? config, { prices: DEFAULT_PRICE_BOOK, history: options.history });
}

function stage(body: string): string {
  return `version: 1\nstages:\n  s:\n    commands: [make]\n${body
    .split('\n')
    .filter(Boolean)
    .map((l) => `    ${l}`)
    .join('\n')}\n`;
}

describe('Function: planPipeline', () => {
  describe('runner choice in auto mode', () => {
    it('puts a small stage with no image on Lambda', () => {
      const [s] = planOf(stage('')).stages;
      expect(s.runner).toBe('lambda');
      expect(s.lambda).toEqual({ memoryMB: 2048, ephemeralStorageMB: 512, architecture: 'x86_64' });
    });

    it.each([
      ['an image', 'image: node:22', /sets image node:22/],
      ['a timeout over 14 minutes', 'timeout: 841s', /timeout 14m1s is over the 14m a Lambda stage may run \(15m less a 60s margin\)/],
      ['disk over the farm\'s /tmp', 'resources: { disk: 513MiB }', /disk 513 MiB is over the Lambda runner's \/tmp \(512 MB\)/],
      ['memory over 10240 MB', 'resources: { memory: 10241MiB }', /memory 10 GiB is over|memory 10241 MiB is over|over Lambda's 10240 MB/],
      ['cpu over 6 vCPU', 'resources: { cpu: 8 }', /cpu 8 vCPU is over Lambda's 6 vCPU/],
    ])('sends a stage with %s to Fargate, saying why', (_what, body, reason) => {
      const [s] = planOf(stage(body)).stages;
      expect(s.runner).toBe('fargate');
      expect(s.reason).toMatch(reason);
      expect(s.lambda).toBeUndefined();
    });

    it('keeps a 14-minute timeout on Lambda (the margin is 60 s)', () => {
      expect(planOf(stage('timeout: 14m')).stages[0].runner).toBe('lambda');
    });

    it('sizes and prices a Lambda stage on the runners\' x86_64 whatever architecture says (it picks Fargate\'s)', () => {
      const [s] = planOf(stage('architecture: arm64')).stages;
      expect(s.runner).toBe('lambda');
      expect(s.lambda?.architecture).toBe('x86_64');
      expect(s.fargate.architecture).toBe('arm64');
    });

    it('uses the farm\'s configured /tmp', () => {
      const [s] = planOf(stage('resources: { disk: 2GiB }'), { config: { ...config, lambdaEphemeralStorageMB: 4096 } }).stages;
      expect(s.runner).toBe('lambda');
      expect(s.lambda?.ephemeralStorageMB).toBe(4096);
    });

    it('moves a stage whose recent runs took too long for Lambda to Fargate', () => {
      const history = { s: { durationsMs: [100_000, 850_000], peakMemoryMiB: 100, peakDiskMiB: 10, escalated: false } };
      const [s] = planOf(stage(''), { history }).stages;
      expect(s.runner).toBe('fargate');
      expect(s.reason).toMatch(/recent runs took up to 14m10s/);
      expect(s.predictedFrom).toBe('history');
      expect(s.predictedDurationSeconds).toBe(850);
    });

    it('remembers an escalation to Fargate', () => {
      const history = { s: { durationsMs: [5_000], peakMemoryMiB: 100, peakDiskMiB: 10, escalated: true } };
      expect(planOf(stage(''), { history }).stages[0].reason).toMatch(/ran out of time or disk on Lambda last time/);
    });

    it('with optimize: cost, picks the cheaper runner once the duration is measured', () => {
      const short = { s: { durationsMs: [10_000], peakMemoryMiB: 100, peakDiskMiB: 10, escalated: false } };
      const long = { s: { durationsMs: [180_000], peakMemoryMiB: 100, peakDiskMiB: 10, escalated: false } };
      const cost = { ...config, optimize: 'cost' as const };
      expect(planOf(stage(''), { history: short, config: cost }).stages[0].runner).toBe('lambda');
      expect(planOf(stage(''), { history: long, config: cost }).stages[0].runner).toBe('fargate');
    });

    it('balanced (the default) keeps a 3-minute stage on Lambda: Fargate saves $0.0033 for 39s more wait', () => {
      // The default 1 vCPU / 2 GiB stage. Lambda 2048 MB x 180 s = 360 GB-s x $0.0000166667 + $0.0000002 = $0.0060002;
      // Fargate 1 vCPU / 2 GB x (180 s + 20 s pull) = (0.04048 + 2 x 0.004445) x 200/3600 = $0.0027428.
      // Saving $0.0032574 < the 39 s x $0.0005 = $0.0195 the extra wait is worth.
      const long = { s: { durationsMs: [180_000], peakMemoryMiB: 100, peakDiskMiB: 10, escalated: false } };
      const [s] = planOf(stage(''), { history: long }).stages;
      expect(s.runner).toBe('lambda');
      expect(s.reason).toMatch(/Fargate would save only \$0\.003257 for 39s more wait \(optimize: balanced/);
    });

    it('a pipeline\'s optimize: overrides the farm\'s setting', () => {
      const long = { s: { durationsMs: [180_000], peakMemoryMiB: 100, peakDiskMiB: 10, escalated: false } };
      const yaml = `optimize: cost\n${stage('')}`.replace('optimize: cost\nversion: 1', 'version: 1\noptimize: cost');
      expect(planOf(yaml, { history: long, config: { ...config, optimize: 'time' } }).stages[0].runner).toBe('fargate');
      expect(planOf(stage(''), { history: long, config: { ...config, optimize: 'cost' } }).stages[0].runner).toBe('fargate');
    });
  });

  describe('forced runners', () => {
    it('honours runner: fargate for a stage that fits Lambda', () => {
      expect(planOf(stage('runner: fargate')).stages[0]).toMatchObject({ runner: 'fargate', reason: 'runner: fargate is set' });
    });

    it('rejects runner: lambda with more disk than the farm\'s /tmp, at the runner line', () => {
      const text = stage('runner: lambda\nresources: { disk: 1GiB }');
      const { pipeline, sites } = parsePipelineWithSites(text, 'ci.yml');
      const run = () => planPipeline(pipeline, push, config, { prices: DEFAULT_PRICE_BOOK, locate: (p) => sites.locate(p), file: 'ci.yml' });
      expect(run).toThrow(PipelineInvalid);
      expect(run).toThrow(/^ci\.yml:5:13 stages\.s\.runner: runner: lambda cannot be honoured: disk 1 GiB is over the Lambda runner's \/tmp \(512 MB\)$/);
    });
  });

  describe('waves, upstream and skips', () => {
    it('gives each stage every stage it depends on, directly or through others', () => {
      const plan = planOf('version: 1\nstages:\n  a: { commands: [x] }\n  b: { commands: [x], needs: [a] }\n  c: { commands: [x], needs: [b] }\n');
      expect(plan.waves).toEqual([['a'], ['b'], ['c']]);
      expect(plan.stages.find((s) => s.name === 'c')).toMatchObject({ needs: ['b'], upstream: ['a', 'b'], wave: 2 });
    });

    it('skips a stage whose if: does not match, and the stages that need it', () => {
      const yaml = 'version: 1\nstages:\n  a: { commands: [x], if: { branch: release/* } }\n  b: { commands: [x], needs: [a] }\n  c: { commands: [x] }\n';
      const plan = planOf(yaml);
      expect(plan.waves).toEqual([['c']]);
      expect(plan.skipped).toEqual([
        { name: 'a', reason: 'if: does not match push on main' },
        { name: 'b', reason: 'needs a, which is skipped' },
      ]);
    });

    it('matches if: branch against a pull request\'s base branch', () => {
      const yaml = 'version: 1\nstages:\n  a: { commands: [x], if: { branch: main } }\n';
      const plan = planPipeline(parsePipeline(yaml), { event: 'pull_request', branch: 'feature', baseBranch: 'main' }, config, { prices: DEFAULT_PRICE_BOOK });
      expect(plan.stages.map((s) => s.name)).toEqual(['a']);
    });
  });

  describe('predicted cost', () => {
    it('is the sum of the stages, each from its timeout', () => {
      const plan = planOf('version: 1\nstages:\n  a: { commands: [x], timeout: 1m }\n  b: { commands: [x], timeout: 1m, runner: fargate }\n');
      const lambda = 2 * 60 * 0.0000166667 + 0.0000002;
      const fargate = ((0.04048 + 2 * 0.004445) * 80) / 3600; // 60 s plus the 20 s billed start-up estimate
      expect(plan.stages[0].predictedCostUsd).toBeCloseTo(lambda, 6);
      expect(plan.stages[1].predictedCostUsd).toBeCloseTo(fargate, 6);
      expect(plan.predictedCostUsd).toBeCloseTo(lambda + fargate, 6);
    });
  });

  it('keeps Lambda sizes within Lambda\'s limits and on a runner tier', () => {
    const resources = fc.record({
      cpu: fc.integer({ min: 1, max: 24 }).map((q) => q / 4),
      memory: fc.integer({ min: 128, max: 10240 }),
      disk: fc.integer({ min: 1, max: 10240 }),
    });
    const storage = fc.integer({ min: LAMBDA_MIN_STORAGE_MB, max: LAMBDA_MAX_STORAGE_MB });
    fc.assert(
      fc.property(resources, storage, (r, lambdaEphemeralStorageMB) => {
        const yaml = stage(`resources: { cpu: ${r.cpu}, memory: ${r.memory}MiB, disk: ${r.disk}MiB }`);
        const [s] = planOf(yaml, { config: { region: 'us-east-1', lambdaEphemeralStorageMB } }).stages;
        if (s.runner !== 'lambda') return;
        const l = s.lambda!;
        expect(l.memoryMB).toBeGreaterThanOrEqual(LAMBDA_MIN_MEMORY_MB);
        expect(l.memoryMB).toBeLessThanOrEqual(LAMBDA_MAX_MEMORY_MB);
        expect(LAMBDA_RUNNER_TIERS_MB).toContain(l.memoryMB);
        expect(l.memoryMB).toBeGreaterThanOrEqual(Math.min(LAMBDA_MAX_MEMORY_MB, Math.max(r.memory, Math.ceil(1769 * r.cpu))));
        expect(l.ephemeralStorageMB).toBe(lambdaEphemeralStorageMB);
        expect(l.ephemeralStorageMB).toBeGreaterThanOrEqual(r.disk);
        expect(s.timeoutSeconds).toBeLessThanOrEqual(900);
      }),
      { numRuns: 200 },
    );
  });
});
