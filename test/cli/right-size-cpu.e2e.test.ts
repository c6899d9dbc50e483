/**
 * Right-sizing by CPU, end to end on the local farm with real measurements: `buildfarm run` of a
 * pipeline with a CPU-heavy stage (busy loops in four processes) and an idle one (sleep), both
 * starting from the same Fargate size (0.25 vCPU / 512 MiB, the smallest) with `resources: auto`.
 * The first build measures them: the report carries each stage's CPU, and the recommendations
 * differ (the busy stage needs more vCPUs; the idle one is right where it is). The second build,
 * on the same data directory, reads the history and applies them.
 *
 * The local farm does not cap a stage's CPU, and this machine is shared: the busy stage gets what
 * the load leaves it (0.4 vCPU at a load of 10 on 2 cores, niceness 10), so the test asks only
 * that it used more than 0.2 vCPU at its peak, which any share of four busy processes does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

// About half a second of CPU per awk on this machine, whatever the load (the load stretches the wall time).
const BUSY = `awk 'BEGIN { for (i = 0; i < 30000000; i++) s += i }'`;
const PIPELINE = [
  'version: 1',
  'defaults:',
  '  resources: { cpu: 0.25, memory: 512MiB }',
  'stages:',
  '  crunch:',
  '    runner: fargate',
  '    resources: auto',
  '    commands:',
  `      - "${BUSY} & ${BUSY} & ${BUSY} & ${BUSY} & wait"`,
  '  idle:',
  '    runner: fargate',
  '    resources: auto',
  '    commands: [sleep 3]',
].join('\n');

const env = { BUILDFARM_SANDBOX: process.env.BUILDFARM_SANDBOX };
/**
 * A failed run's progress and its report (the stage's error is there): this test once failed in CI
 * with the second run exiting 1 and no line for crunch, and stderr alone could not say why.
 */
const why = (run: { stdout: string; stderr: string }) => `${run.stderr}\n--- report ---\n${run.stdout.slice(0, 6000)}`;

describe('CLI: right-sizing by measured CPU', () => {
  it('a busy stage and an idle one asking for the same size are measured, recommended apart, and resized by resources: auto', async () => {
    // Prepare
    const repo = await makeGitRepo({ '.buildfarm.yml': `${PIPELINE}\n` });
    const data = await mkdtemp(join(tmpdir(), 'bf-cpu-'));
    dirs.push(repo.path, data);

    // Act: the first build measures
    const first = await runCli(['run', repo.path, '--data-dir', data, '--json'], { env });
    expect(first.code, why(first)).toBe(0);
    const measured = JSON.parse(first.stdout) as BuildReport;

    // Assess: both ran on the defaults (0.25 vCPU / 512 MiB), and measured their CPU
    const stage = (report: BuildReport, name: string) => report.stages.find((s) => s.name === name)!;
    for (const name of ['crunch', 'idle']) expect(stage(measured, name).fargate).toMatchObject({ cpu: 256, memory: 512 });
    const crunch = stage(measured, 'crunch').cpuUsage!;
    const idle = stage(measured, 'idle').cpuUsage!;
    expect(crunch.seconds).toBeGreaterThan(1.2);
    expect(crunch.peakVcpu).toBeGreaterThan(0.2);
    expect(idle.seconds).toBeLessThan(0.2);
    expect(idle.peakVcpu).toBeLessThan(0.1);
    expect(idle.wallSeconds).toBeGreaterThan(2.9);

    const recommendation = (name: string) => measured.rightSizing?.find((r) => r.stage === name);
    // The busy stage used more than its size gives: 1.25 x its peak is over 0.25 vCPU. The idle one fits where it is.
    expect(recommendation('crunch')).toMatchObject({ direction: 'larger' });
    expect(recommendation('crunch')!.resources.cpu).toBeGreaterThanOrEqual(0.5);
    expect(recommendation('idle')).toBeUndefined();

    // Act: the second build plans from the history the first recorded
    const second = await runCli(['run', repo.path, '--data-dir', data, '--json'], { env });
    expect(second.code, why(second)).toBe(0);
    const sized = JSON.parse(second.stdout) as BuildReport;

    // Assess
    expect(stage(sized, 'crunch').fargate!.cpu).toBeGreaterThanOrEqual(512);
    expect(stage(sized, 'idle').fargate).toMatchObject({ cpu: 256, memory: 512 });
    expect(stage(sized, 'crunch').cpuUsage!.seconds).toBeGreaterThan(1.2);
  }, 240_000);
});
