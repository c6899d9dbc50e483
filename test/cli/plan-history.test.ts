/**
 * `buildfarm plan` plans with the stage history `buildfarm run` recorded in the data directory,
 * keyed as the Plan task keys it (the stage's definition hash), so its predictions and
 * right-sizing block are those a build would get; and it says when there is no history.
 * Everything through the CLI: a real `buildfarm run`, then `buildfarm plan`.
 */
import { writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../functions/domain/plan/types.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

/** A Fargate stage asking for 8 GiB that needs a few MiB: with history, a smaller pair is recommended. */
const PIPELINE = "version: 1\nstages:\n  test:\n    commands: ['sleep 2']\n    runner: fargate\n    timeout: 2m\n    resources: { cpu: 1, memory: 8GiB }\n";

const dirs: string[] = [];
let repo: string;
let data: string;

beforeAll(async () => {
  repo = (await makeGitRepo({ '.buildfarm.yml': PIPELINE })).path;
  data = await mkdtemp(path.join(tmpdir(), 'bf-plan-history-'));
  dirs.push(repo, data);
  const run = await runCli(['run', repo, '--data-dir', data]);
  expect(run.code, `${run.stdout.slice(0, 2000)}\n${run.stderr.slice(0, 2000)}`).toBe(0);
}, 120_000);

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('CLI: buildfarm plan with the data directory\'s history', () => {
  it('predicts from the recorded run and shows right-sizing, saying where the history came from', async () => {
    const run = await runCli(['plan', repo, '--data-dir', data]);
    expect(run.code, run.stderr).toBe(0);
    const name = `local/${path.basename(repo)}`;
    expect(run.stdout).toContain(`history: 1 of 1 stage from ${name}'s builds in ${data}`);
    expect(run.stdout).toContain('right-sizing (from measured peaks):');

    const json = await runCli(['plan', repo, '--data-dir', data, '--json']);
    const plan = JSON.parse(json.stdout) as Plan;
    expect(plan.stages[0]).toMatchObject({ predictedFrom: 'history' });
    expect(plan.stages[0]!.rightSizing).toMatchObject({ stage: 'test', runner: 'fargate', current: 'Fargate 1 vCPU / 8192 MiB', direction: 'smaller' });
    // The recorded run measured a small peak: the recommendation is a smaller valid pair (its exact
    // size follows the measured CPU and memory, which vary with the machine's load).
    expect(plan.stages[0]!.rightSizing!.recommended).toMatch(/^Fargate (0\.25|0\.5|1) vCPU \/ (512|1024|2048) MiB$/);
    expect(plan.stages[0]!.predictedDurationSeconds).toBeLessThan(120);
    expect(json.stderr).toContain('history: 1 of 1 stage');
  });

  it('an edited stage has no history (a new definition hash), and says so', async () => {
    const edited = await mkdtemp(path.join(tmpdir(), 'bf-plan-edited-'));
    dirs.push(edited);
    await writeFile(path.join(edited, '.buildfarm.yml'), PIPELINE.replace("'sleep 2'", "'sleep 3'"));
    const run = await runCli(['plan', edited, '--data-dir', data, '--repo', `local/${path.basename(repo)}`, '--json']);
    expect(JSON.parse(run.stdout).stages[0]).toMatchObject({ predictedFrom: 'timeout' });
    expect(run.stderr).toContain(`history: none for local/${path.basename(repo)} in ${data} (no build recorded these stages as they are defined now; --repo names the repository)`);
  });

  it('without a data directory plans from the timeouts, and says so without creating one', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'bf-plan-none-'));
    dirs.push(empty);
    const run = await runCli(['plan', repo, '--data-dir', path.join(empty, 'missing')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`history: none (no data directory at ${path.join(empty, 'missing')}; buildfarm run and serve record stage history there, --data-dir names another)`);
    expect(run.stdout).not.toContain('right-sizing (from measured peaks)');
    await expect(import('node:fs/promises').then((fs) => fs.stat(path.join(empty, 'missing')))).rejects.toThrow();
  });
});
