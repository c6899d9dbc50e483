import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { defaultStageConcurrency, stageConcurrency } from '../../functions/local/stage-concurrency.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

describe('Function: stageConcurrency (how many stages of a wave the local farm runs at once)', () => {
  it('defaults to the machine\'s cores, within the template\'s MaxStageConcurrency bounds', () => {
    expect(stageConcurrency({}, {}, 6)).toBe(6);
    expect(defaultStageConcurrency(1)).toBe(1);
    expect(defaultStageConcurrency(96)).toBe(40);
  });

  it('takes --stage-concurrency over BUILDFARM_STAGE_CONCURRENCY over the default', () => {
    expect(stageConcurrency({ 'stage-concurrency': '3' }, { BUILDFARM_STAGE_CONCURRENCY: '5' }, 8)).toBe(3);
    expect(stageConcurrency({}, { BUILDFARM_STAGE_CONCURRENCY: '5' }, 8)).toBe(5);
  });

  it('names the flag or the variable a bad value came from, and what is allowed', () => {
    expect(() => stageConcurrency({ 'stage-concurrency': '0' }, {})).toThrow('--stage-concurrency: "0" is not a stage concurrency; allowed: a whole number from 1 to 40');
    expect(() => stageConcurrency({}, { BUILDFARM_STAGE_CONCURRENCY: '2.5' })).toThrow(/^BUILDFARM_STAGE_CONCURRENCY: "2.5"/);
    expect(() => stageConcurrency({ 'stage-concurrency': '41' }, {})).toThrow(/from 1 to 40/);
  });
});

describe('CLI: buildfarm run --stage-concurrency', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function build(args: string[], env: NodeJS.ProcessEnv = {}): Promise<BuildReport> {
    const repo = await makeGitRepo({
      '.buildfarm.yml': ['version: 1', 'stages:', ...['a', 'b', 'c'].flatMap((name) => [`  ${name}:`, '    commands: ["sleep 1.5"]'])].join('\n'),
    });
    const data = await mkdtemp(join(tmpdir(), 'bf-conc-'));
    dirs.push(repo.path, data);
    const run = await runCli(['run', repo.path, '--json', '--data-dir', data, ...args], { env: { BUILDFARM_SANDBOX: process.env.BUILDFARM_SANDBOX, ...env } });
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as BuildReport;
  }

  /** Pairs of stages whose [startedAt, finishedAt] overlap. */
  function overlaps(report: BuildReport): number {
    const spans = report.stages.map((s) => [Date.parse(s.startedAt!), Date.parse(s.finishedAt!)] as const);
    let count = 0;
    for (let i = 0; i < spans.length; i += 1) for (let j = i + 1; j < spans.length; j += 1) if (spans[i]![0] < spans[j]![1] && spans[j]![0] < spans[i]![1]) count += 1;
    return count;
  }

  it('runs the three stages of a wave together with --stage-concurrency 3, one by one with BUILDFARM_STAGE_CONCURRENCY=1', async () => {
    // Act
    const together = await build(['--stage-concurrency', '3']);
    const oneByOne = await build([], { BUILDFARM_STAGE_CONCURRENCY: '1' });
    // Assess
    expect(overlaps(together)).toBe(3);
    expect(overlaps(oneByOne)).toBe(0);
  });
});
