import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const example = path.resolve(import.meta.dirname, '../../examples/hello-farm/.buildfarm.yml');

function tempFile(text: string, name = '.buildfarm.yml'): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bf-cli-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

describe('CLI: buildfarm validate', () => {
  it('exits 0 for the example', async () => {
    const run = await runCli(['validate', example]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/is valid: 4 stages in 3 waves/);
  });

  it('reads ./.buildfarm.yml by default', async () => {
    const { dir } = tempFile('version: 1\nstages:\n  a: { commands: [make] }\n');
    const run = await runCli(['validate'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('.buildfarm.yml is valid: 1 stage in 1 wave\n');
  });

  it('exits 1 with file:line:column, the field and what is allowed, and no stack trace', async () => {
    const { dir } = tempFile('version: 1\nstages:\n  test:\n    commands: [make]\n    resources: { memory: 200GB }\n');
    const run = await runCli(['validate'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('.buildfarm.yml:5:26 stages.test.resources.memory: "200GB" is above the largest Fargate size (120 GiB)');
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('rejects runner: lambda that the farm\'s Lambda /tmp cannot hold, and accepts it with more /tmp', async () => {
    const { dir } = tempFile('version: 1\nstages:\n  a:\n    runner: lambda\n    commands: [make]\n    resources: { disk: 2GiB }\n');
    const small = await runCli(['validate'], { cwd: dir });
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/stages\.a\.runner: runner: lambda cannot be honoured: disk 2 GiB is over the Lambda runner's \/tmp \(512 MB\)/);
    expect((await runCli(['validate', '--lambda-storage', '4096'], { cwd: dir })).code).toBe(0);
  });

  it('plans with the runner tiers a default deployment has (up to 2048 MB), and with --lambda-tiers after a quota increase', async () => {
    const { dir } = tempFile('version: 1\nstages:\n  a:\n    runner: lambda\n    commands: [make]\n    resources: { memory: 4GiB }\n');
    const fresh = await runCli(['validate'], { cwd: dir });
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/stages\.a\.runner: runner: lambda cannot be honoured: it needs 4096 MB .*largest Lambda runner this farm deploys \(2048 MB; raise LambdaRunnerMaxMemoryMB/);
    expect((await runCli(['validate', '--lambda-tiers', '1024,2048,4096'], { cwd: dir })).code).toBe(0);
    const bad = await runCli(['validate', '--lambda-tiers', '1024,5000'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--lambda-tiers: "1024,5000" is not a list of Lambda runner tiers \(5000 unknown\)/);
  });

  it('says clearly when the file is missing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bf-cli-'));
    const run = await runCli(['validate'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^\.buildfarm\.yml: no such file/);
  });
});

describe('CLI: buildfarm plan', () => {
  it('prints a table with stage, wave, runner, size, timeout, predicted cost and reason', async () => {
    const run = await runCli(['plan', example, '--branch', 'main']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^STAGE\s+WAVE\s+RUNNER\s+SIZE\s+TIMEOUT\s+PREDICTED\s+REASON$/);
    expect(run.stdout).toMatch(/^build\s+1\s+lambda\s+2048 MB, \/tmp 512 MB, x86_64\s+5m\s+\$0\.0100\s+Lambda: /m);
    expect(run.stdout).toMatch(/^package\s+3\s+fargate\s+1 vCPU \/ 2 GiB, 20 GiB disk, x86_64\s+5m\s+\$\d\.\d+\s+Fargate: it sets image/m);
    expect(run.stdout).toMatch(/4 stages in 3 waves; predicted cost at most \$/);
  });

  it('prints the plan contract with --json', async () => {
    const run = await runCli(['plan', example, '--json', '--branch', 'main']);
    const plan = JSON.parse(run.stdout);
    expect(plan.waves).toEqual([['build', 'lint'], ['test'], ['package']]);
    const pkg = plan.stages.find((s: { name: string }) => s.name === 'package');
    expect(pkg).toMatchObject({ runner: 'fargate', wave: 2, timeoutSeconds: 300, upstream: ['build', 'lint', 'test'] });
    expect(pkg.fargate).toEqual({ cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false });
    expect(plan.predictedCostUsd).toBeCloseTo(plan.stages.reduce((s: number, x: { predictedCostUsd: number }) => s + x.predictedCostUsd, 0), 6);
  });

  it('plans for a pull request with --event and --base', async () => {
    const { dir } = tempFile('version: 1\nstages:\n  a: { commands: [x] }\n  deploy: { commands: [x], if: { event: push } }\n');
    const plan = JSON.parse((await runCli(['plan', '--json', '--event', 'pull_request', '--branch', 'feat', '--base', 'main'], { cwd: dir })).stdout);
    expect(plan.skipped).toEqual([{ name: 'deploy', reason: 'if: does not match a pull request into main' }]);
  });

  it('uses a prices override file', async () => {
    const prices = tempFile(JSON.stringify({ regions: { 'us-east-1': { x86_64: { lambdaGbSecond: 0 } } } }), 'prices.json');
    const free = JSON.parse((await runCli(['plan', example, '--json', '--prices', prices.file])).stdout);
    expect(free.stages[0].predictedCostUsd).toBeCloseTo(0.0000002, 9);
  });

  it('says a build is not triggered instead of planning it, following on:', async () => {
    const { dir } = tempFile('version: 1\non:\n  push:\n    branches: [release/**]\nstages:\n  a: { commands: [x] }\n');
    const main = await runCli(['plan', '--branch', 'main'], { cwd: dir });
    expect(main).toMatchObject({ code: 0 });
    expect(main.stdout).toMatch(/^not triggered: /);
    const json = JSON.parse((await runCli(['plan', '--json', '--event', 'pull_request', '--branch', 'x'], { cwd: dir })).stdout);
    expect(json).toMatchObject({ triggered: false });
    expect((await runCli(['plan', '--json', '--branch', 'release/1.0'], { cwd: dir })).stdout).toMatch(/"waves"/);
  });

  it('names the known regions for a region without prices, with no stack trace', async () => {
    const run = await runCli(['plan', example, '--region', 'eu-west-1']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('no prices for region "eu-west-1"; known: us-east-1. Add it with a prices override file.');
  });

  it('rejects an unknown event and an unknown option', async () => {
    expect(await runCli(['plan', example, '--event', 'release'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/allowed: push, pull_request/) });
    expect((await runCli(['plan', example, '--nope'])).code).toBe(2);
  });
});
