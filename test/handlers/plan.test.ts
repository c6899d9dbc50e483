import { describe, expect, it } from 'vitest';
import type { Plan, PlannedStage } from '../../functions/domain/plan/types.js';
import { parseConcurrency, toSlimStages } from '../../functions/handlers/plan.js';
import { readFileFromSnapshot, SnapshotFileTooLarge } from '../../functions/handlers/snapshot-file.js';
import { tarball } from '../statemachine/support/farm.js';

/** Step Functions' limit on a state's input or output. */
const MAX_STATE_PAYLOAD_BYTES = 256 * 1024;

function bigPlan(stageCount: number): Plan {
  const stages: PlannedStage[] = Array.from({ length: stageCount }, (_, i) => ({
    name: `stage-with-a-longish-name-${i}`,
    wave: Math.floor(i / 50),
    runner: i % 2 === 0 ? 'lambda' : 'fargate',
    reason: 'x'.repeat(200),
    timeoutSeconds: 600,
    needs: [],
    upstream: [],
    commands: Array.from({ length: 20 }, () => 'npm run something --with --many --flags'),
    env: { A: 'b'.repeat(100) },
    secrets: {},
    artifacts: ['dist/**'],
    image: i % 2 === 0 ? undefined : 'public.ecr.aws/docker/library/node:22-bookworm',
    runAsRoot: false,
    lambda: i % 2 === 0 ? { memoryMB: 2048, ephemeralStorageMB: 512, architecture: 'x86_64' } : undefined,
    fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
    predictedDurationSeconds: 60,
    predictedFrom: 'timeout',
    predictedCostUsd: 0.001,
  }));
  const waves = Array.from({ length: stageCount / 50 }, (_, w) => stages.filter((s) => s.wave === w).map((s) => s.name));
  return { version: 1, waves, stages, skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 1 };
}

describe('Function: toSlimStages', () => {
  it('keeps the routing fields of 1,000 stages far below the 256 KiB state payload limit', () => {
    // Prepare
    const plan = bigPlan(1000);

    // Act
    const slim = [...toSlimStages(plan, 'arn:aws:lambda:us-east-1:123456789012:function:buildfarm-runner').values()];

    // Assess
    expect(Buffer.byteLength(JSON.stringify(plan))).toBeGreaterThan(MAX_STATE_PAYLOAD_BYTES);
    expect(Buffer.byteLength(JSON.stringify(slim))).toBeLessThan(MAX_STATE_PAYLOAD_BYTES);
    expect(slim[1]).toEqual({
      name: 'stage-with-a-longish-name-1',
      runner: 'fargate',
      lambdaFunction: 'arn:aws:lambda:us-east-1:123456789012:function:buildfarm-runner',
      lambda: null,
      fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
      image: 'public.ecr.aws/docker/library/node:22-bookworm',
      runAsRoot: false,
    });
  });

  it('routes a Lambda stage to the runner function of its memory tier when one is configured', () => {
    const slim = toSlimStages(bigPlan(50), 'default-runner', (size) => `runner-${size.memoryMB}`);
    expect(slim.get('stage-with-a-longish-name-0')?.lambdaFunction).toBe('runner-2048');
  });
});

describe('Function: parseConcurrency', () => {
  it('reads a positive integer and never lets a bad value mean unbounded (0)', () => {
    expect(parseConcurrency('8')).toBe(8);
    expect(parseConcurrency('0')).toBe(1);
    expect(parseConcurrency('${MaxStageConcurrency}')).toBe(1);
  });
});

describe('Function: readFileFromSnapshot', () => {
  it('finds the pipeline file under the tarball top-level directory', async () => {
    const snapshot = await tarball({ 'src/.buildfarm.yml': 'nested: true\n', '.buildfarm.yml': 'stages: {}\n' });
    await expect(readFileFromSnapshot(snapshot, '.buildfarm.yml', 1024)).resolves.toBe('stages: {}\n');
  });

  it('returns undefined when the file is absent', async () => {
    const snapshot = await tarball({ 'README.md': '# x\n' });
    await expect(readFileFromSnapshot(snapshot, '.buildfarm.yml', 1024)).resolves.toBeUndefined();
  });

  it('refuses a pipeline file above the size limit', async () => {
    const snapshot = await tarball({ '.buildfarm.yml': 'x'.repeat(2048) });
    await expect(readFileFromSnapshot(snapshot, '.buildfarm.yml', 1024)).rejects.toThrow(SnapshotFileTooLarge);
  });
});
