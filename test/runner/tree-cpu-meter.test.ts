/**
 * The CPU time of a command's process tree (functions/runner/tree-cpu-meter.ts): by hand on
 * made-up samples, then on real processes against the kernel's own account, which the command's
 * shell prints with `times` (the CPU time of the children it waited for, getrusage(2)).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProcessEntry } from '../../functions/runner/process-tree.js';
import { ResourcePeaks, runCommand } from '../../functions/runner/run-command.js';
import { StageLog } from '../../functions/runner/stage-log.js';
import { TreeCpuMeter } from '../../functions/runner/tree-cpu-meter.js';
import { CapturedOutput } from '../support/stages.js';

const entry = (pid: number, ppid: number, cpuTicks: number): ProcessEntry => ({ pid, ppid, pgrp: 10, rssPages: 0, startTime: pid * 7, cpuTicks });

describe('Class: TreeCpuMeter', () => {
  it('keeps a reaped child once: its time moves into its parent (hand-computed, 100 ticks a second)', () => {
    const meter = new TreeCpuMeter(100);
    meter.note([entry(10, 1, 5), entry(11, 10, 50)], 0);
    expect(meter.seconds).toBeCloseTo(0.55, 9);
    // The child ended with 80 ticks; its parent waited for it, so its cutime grew by 80.
    meter.note([entry(10, 1, 5 + 80)], 200);
    expect(meter.seconds).toBeCloseTo(0.85, 9);
  });

  it('keeps the last sampled time of a process reaped outside the tree: the root, and an orphan', () => {
    const meter = new TreeCpuMeter(100);
    meter.note([entry(10, 1, 20), entry(12, 10, 30)], 0);
    // The root (reaped by the runner) is gone; its child, reparented to init, goes on to 70 ticks.
    meter.note([entry(12, 1, 70)], 200);
    expect(meter.seconds).toBeCloseTo(0.9, 9);
    // Then init reaps it: its last sampled 70 ticks stay counted.
    meter.note([], 400);
    expect(meter.seconds).toBeCloseTo(0.9, 9);
  });

  it('a short-lived child never sampled still counts, through its parent', () => {
    const meter = new TreeCpuMeter(100);
    meter.note([entry(10, 1, 0)], 0);
    meter.note([entry(10, 1, 40)], 200);
    expect(meter.seconds).toBeCloseTo(0.4, 9);
  });

  it('takes the peak over whole one-second windows: 1.5 vCPU in the second second, none in the first', () => {
    const meter = new TreeCpuMeter(100);
    meter.note([entry(10, 1, 0)], 0);
    expect(meter.peakVcpu).toBeUndefined();
    meter.note([entry(10, 1, 0)], 1_000);
    expect(meter.peakVcpu).toBe(0);
    meter.note([entry(10, 1, 75)], 1_500);
    meter.note([entry(10, 1, 150)], 2_000);
    expect(meter.peakVcpu).toBeCloseTo(1.5, 9);
    expect(meter.seconds).toBeCloseTo(1.5, 9);
  });
});

/** The children's user + system seconds from `times` (second line, "0m1.23s 0m0.01s"). */
function childSeconds(text: string): number {
  const line = text.trim().split('\n')[1] ?? '';
  const [user, system] = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return (user ?? NaN) + (system ?? NaN);
}

describe('Function: runCommand (CPU, real processes)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpu-meter-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(command: string): Promise<ResourcePeaks> {
    const log = new StageLog(join(dir, 'log.txt'), new CapturedOutput());
    const peaks = new ResourcePeaks();
    const outcome = await runCommand(command, { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log, deadline: Date.now() + 120_000, now: Date.now, diskRoot: dir }, peaks);
    await log.close();
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    return peaks;
  }

  // About a second of CPU each in mawk on this machine; the kernel's figure is the oracle, not this.
  const busy = `awk 'BEGIN { for (i = 0; i < 60000000; i++) s += i }'`;

  it('two busy processes: the CPU seconds the kernel gives the shell, less at most the last sample of each', async () => {
    const peaks = await run(`${busy} & ${busy} & wait; times > times.txt`);
    const kernel = childSeconds(readFileSync(join(dir, 'times.txt'), 'utf8'));
    const cpu = peaks.cpu!;
    expect(kernel).toBeGreaterThan(0.5);
    // Each process may have run up to one sample interval (200 ms) after its last sample.
    expect(cpu.seconds).toBeGreaterThan(kernel - 0.45);
    expect(cpu.seconds).toBeLessThanOrEqual(kernel + 0.05);
    expect(cpu.averageVcpu).toBeCloseTo(cpu.seconds / cpu.wallSeconds, 2);
    expect(cpu.peakVcpu).toBeGreaterThanOrEqual(cpu.averageVcpu);
    // Two processes cannot use more than two vCPUs (plus a tick of rounding per window).
    expect(cpu.peakVcpu).toBeLessThan(2.1);
    expect(cpu.source).toBe('process-tree');
  }, 120_000);

  it('forty children too short to be sampled one by one are counted through the shell that waited for them', async () => {
    const short = `awk 'BEGIN { for (i = 0; i < 1500000; i++) s += i }'`;
    const peaks = await run(`for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40; do ${short}; done; times > times.txt`);
    const kernel = childSeconds(readFileSync(join(dir, 'times.txt'), 'utf8'));
    expect(kernel).toBeGreaterThan(0.5);
    expect(peaks.cpu!.seconds).toBeGreaterThan(kernel - 0.25);
    expect(peaks.cpu!.seconds).toBeLessThanOrEqual(kernel + 0.05);
  }, 120_000);

  it('an idle command (sleep) uses next to no CPU, and the commands of a stage add up', async () => {
    const peaks = await run('sleep 1.5');
    expect(peaks.cpu!.seconds).toBeLessThan(0.1);
    expect(peaks.cpu!.peakVcpu).toBeLessThan(0.1);
    expect(peaks.cpu!.wallSeconds).toBeGreaterThan(1.4);
    const wall = peaks.cpu!.wallSeconds;
    await runCommand('sleep 0.5', { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log: new StageLog(join(dir, 'log2.txt'), new CapturedOutput()), deadline: Date.now() + 60_000, now: Date.now, diskRoot: dir }, peaks);
    expect(peaks.cpu!.wallSeconds).toBeGreaterThan(wall + 0.4);
  }, 60_000);

  it('hostile: busy daemons a stage starts (setsid, double fork) never count for a stage beside it, and only hide from their own', async () => {
    // Prepare: stage A leaves busy daemons outside its tree while stage B, beside it, sleeps.
    const daemon = (n: number) => `(setsid sh -c '${busy.replace(/'/g, `'\\''`)}; touch daemon-${n}.done' > /dev/null 2>&1 &)`;
    const a = run(`${daemon(1)}; ${daemon(2)}; sleep 2`);
    const b = run('sleep 2');

    // Act
    const [stageA, stageB] = await Promise.all([a, b]);

    // Assess: B measured nothing of A's work; A's daemons left its tree, so A under-reports only itself.
    expect(stageB.cpu!.seconds).toBeLessThan(0.1);
    expect(stageA.cpu!.seconds).toBeLessThan(0.5);
    // The daemons did run their busy loops (they outlive the command here: no marker, no cgroup in this test).
    await expect.poll(() => existsSync(join(dir, 'daemon-1.done')) && existsSync(join(dir, 'daemon-2.done')), { timeout: 60_000, interval: 200 }).toBe(true);
  }, 120_000);
});
