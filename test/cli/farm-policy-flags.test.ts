/**
 * `--forks`, `--max-build-cost` and `--max-fork-build-cost` (and their environment variables)
 * on `buildfarm plan`, `run` and `serve`: flags beat variables, bad values are named, and a
 * build over a limit is refused before any stage runs.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../functions/domain/plan/types.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

const example = path.resolve(import.meta.dirname, '../../examples/hello-farm/.buildfarm.yml');
const BUILD_LIMIT = 'exceeds the build limit $0.0010 (BUILDFARM_MAX_BUILD_COST_USD / MaxBuildCostUsd)';
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('CLI: buildfarm plan with the farm policy', () => {
  it('says a build over --max-build-cost would be refused, with the figures, and exits 1', async () => {
    // Act
    const run = await runCli(['plan', example, '--max-build-cost', '0.001']);
    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`refused: predicted \\$0\\.\\d{4} ${BUILD_LIMIT.replace(/[$().]/g, '\\$&')}\\n$`));
  });

  it('reads BUILDFARM_MAX_BUILD_COST_USD, and the flag wins over it', async () => {
    // Act
    const fromEnv = await runCli(['plan', example], { env: { BUILDFARM_MAX_BUILD_COST_USD: '0.001' } });
    const flagWins = await runCli(['plan', example, '--max-build-cost', '10'], { env: { BUILDFARM_MAX_BUILD_COST_USD: '0.001' } });
    // Assess
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stdout).toContain(BUILD_LIMIT);
    expect(flagWins.code).toBe(0);
    expect(flagWins.stdout).not.toContain('refused');
  });

  it('applies the fork limit (default $0.50, or --max-fork-build-cost) only to --fork', async () => {
    // Act
    const fork = await runCli(['plan', example, '--event', 'pull_request', '--fork', '--max-fork-build-cost', '0.001']);
    const own = await runCli(['plan', example, '--event', 'pull_request', '--max-fork-build-cost', '0.001']);
    // Assess
    expect(fork.code).toBe(1);
    expect(fork.stdout).toContain('exceeds the fork build limit $0.0010 (BUILDFARM_MAX_FORK_BUILD_COST_USD / MaxForkBuildCostUsd)');
    expect(own.code).toBe(0);
  });

  it('plans a fork with secretsWithheld true under the default policy, false under --forks build', async () => {
    // Act
    const withheld = await runCli(['plan', example, '--event', 'pull_request', '--fork', '--json']);
    const given = await runCli(['plan', example, '--event', 'pull_request', '--fork', '--json'], { env: { BUILDFARM_FORKS: 'build' } });
    // Assess
    expect((JSON.parse(withheld.stdout) as Plan).secretsWithheld).toBe(true);
    expect((JSON.parse(given.stdout) as Plan).secretsWithheld).toBe(false);
  });

  it('says a fork would be refused under --forks off', async () => {
    // Act
    const run = await runCli(['plan', example, '--event', 'pull_request', '--fork', '--forks', 'off']);
    // Assess
    expect(run).toMatchObject({ code: 1, stdout: 'refused: pull requests from forks are not built on this farm (forks: off; BUILDFARM_FORKS / ForkPolicy)\n' });
  });

  it.each([
    [['--forks', 'maybe'], {}, '--forks: "maybe" is not a fork policy; allowed: build, no-secrets, off'],
    [[], { BUILDFARM_FORKS: 'OFF' }, 'BUILDFARM_FORKS: "OFF" is not a fork policy; allowed: build, no-secrets, off'],
    [['--max-build-cost=-1'], {}, '--max-build-cost: "-1" is not an amount in US dollars; allowed: a number of 0 or more (e.g. 0.50), or empty for no limit'],
    [[], { BUILDFARM_MAX_FORK_BUILD_COST_USD: 'cheap' }, 'BUILDFARM_MAX_FORK_BUILD_COST_USD: "cheap" is not an amount in US dollars'],
    [['--max-fork-build-cost', '1e9'], {}, '--max-fork-build-cost: "1e9" is not an amount in US dollars'],
  ])('rejects %j %j, naming where the value came from', async (args, env, message) => {
    // Act
    const run = await runCli(['plan', example, ...args], { env });
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects --fork on a push', async () => {
    const run = await runCli(['plan', example, '--fork']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--fork: only a pull request comes from a fork; add --event pull_request');
  });
});

describe('CLI: buildfarm run and serve with the farm policy', () => {
  it('run: a build over --max-build-cost ends refused without running a stage, and exits 1', async () => {
    // Prepare
    const repo = await makeGitRepo({ '.buildfarm.yml': 'version: 1\nstages:\n  hello:\n    commands: [echo hello > ran.txt]\n    artifacts: [ran.txt]\n' });
    const data = await mkdtemp(path.join(tmpdir(), 'bf-policy-'));
    dirs.push(repo.path, data);
    // Act
    const run = await runCli(['run', repo.path, '--json', '--data', data, '--max-build-cost', '0.001']);
    // Assess
    const report = JSON.parse(run.stdout) as BuildReport;
    expect(run.code).toBe(1);
    expect(report).toMatchObject({ status: 'refused', stages: [] });
    expect(report.reason).toContain(BUILD_LIMIT);
    // No stage workspace was ever made.
    expect(await readdir(path.join(data, 'work')).catch(() => [])).toEqual([]);
  });

  it.each([['run'], ['serve']])('%s: rejects a bad --forks before starting anything', async (command) => {
    // Prepare
    const data = await mkdtemp(path.join(tmpdir(), 'bf-policy-'));
    dirs.push(data);
    // Act
    const run = await runCli([command, '--forks', 'sometimes', command === 'run' ? '--data' : '--data-dir', data]);
    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--forks: "sometimes" is not a fork policy; allowed: build, no-secrets, off');
    expect(await readdir(data)).toEqual([]);
  });
});
