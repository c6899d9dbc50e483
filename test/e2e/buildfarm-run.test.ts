/**
 * End to end: `buildfarm run` on the example repository builds it through the real
 * state machine, local executors and the embedded S3; artifacts flow from stage to
 * stage, one stage takes the Fargate path, and the report's costs follow the pricing rules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../functions/domain/pricing/price-book.js';
import { fargateCost, lambdaCost } from '../../functions/domain/pricing/cost.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

const exampleDir = path.resolve(import.meta.dirname, '../../examples/hello-farm');

/** The example as a repository of its own, so this repository's own HEAD (its message, its state) cannot matter. */
async function exampleRepo(): Promise<string> {
  const files: Record<string, string> = {};
  for (const name of ['.buildfarm.yml', 'README.md', 'src/greeting.txt', 'scripts/build.sh', 'scripts/lint.sh', 'scripts/test.sh']) {
    files[name] = await readFile(path.join(exampleDir, name), 'utf8');
  }
  const repo = await makeGitRepo(files);
  dirs.push(repo.path);
  return repo.path;
}
const prices = regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1');
const dirs: string[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bf-run-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Every stage log the embedded S3 kept under `data` (for failure messages). */
function stageLogs(data: string): string {
  try {
    return execFileSync('sh', ['-c', `find "${data}" -path '*log.txt*' -type f | head -20 | while read f; do echo "== $f"; head -c 1500 "$f"; done`], { encoding: 'utf8' });
  } catch (error) {
    return String(error);
  }
}

// One retry: twice in about ten full runs on this 2-core machine a stage of these builds failed
// while the whole suite (sandboxes, twin, moto) ran beside it; the stage logs in the message say why
// when it happens again. A build that is really broken fails both attempts.
describe('CLI: buildfarm run', { retry: 1 }, () => {
  it('builds the example: artifacts flow, package runs on the Fargate path, costs follow the pricing rules', async () => {
    // Act
    const data = await dataDir();
    const run = await runCli(['run', await exampleRepo(), '--json', '--data', data]);
    // Assess
    expect(run.code, `${run.stdout.slice(0, 3000)}\n${run.stderr.slice(0, 2000)}\n${stageLogs(data)}`).toBe(0);
    const report = JSON.parse(run.stdout) as BuildReport;
    expect(report.status).toBe('succeeded');
    const byName = Object.fromEntries(report.stages.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['build', 'lint', 'package', 'test']);
    for (const name of ['build', 'lint', 'test']) expect(byName[name]).toMatchObject({ status: 'succeeded', runner: 'lambda' });
    expect(byName.package).toMatchObject({ status: 'succeeded', runner: 'fargate', exitCode: 0 });

    // test read build's dist/ (it greps it) and package tarred both upstream outputs
    expect(byName.build.artifacts.map((a) => a.path).sort()).toEqual(['dist/SIZE', 'dist/greeting.txt']);
    expect(byName.test.artifacts.map((a) => a.path)).toEqual(['reports/test-summary.txt']);
    expect(byName.package.artifacts.map((a) => a.path).sort()).toEqual(['release/SHA256SUMS', 'release/hello-farm.tar.gz']);
    for (const a of byName.package.artifacts) expect(a).toMatchObject({ type: 'file', mode: expect.any(Number) });

    // Lambda: the invocation billed to the ms; Fargate: to the second, one-minute minimum, from the modelled pull
    const lineOf = (stage: string, item: string) => report.costBreakdown.lines.find((l) => l.stage === stage && l.item === item)!;
    const lambda = byName.build;
    expect(lambda.billedDurationMs).toBe(Math.ceil(lambda.billedDurationMs));
    expect(lineOf('build', 'lambda').usd).toBeCloseTo(lambdaCost(lambda.lambda!, lambda.billedDurationMs, prices).costUsd, 9);
    const fargate = byName.package;
    expect(fargate.billedDurationMs).toBeGreaterThanOrEqual(60_000);
    expect(fargate.billedDurationMs % 1000).toBe(0);
    expect(lineOf('package', 'fargate')).toMatchObject({ estimated: true });
    expect(lineOf('package', 'fargate').usd).toBeCloseTo(fargateCost(fargate.fargate!, fargate.billedDurationMs, prices).costUsd, 9);
    // Every stage's log went to (modelled) CloudWatch Logs; the Fargate task held a public IPv4 address.
    for (const name of ['build', 'lint', 'test', 'package']) expect(lineOf(name, 'cloudWatchLogs').quantity).toBeGreaterThan(0);
    expect(lineOf('package', 'publicIpv4').usd).toBeGreaterThan(0);

    // totals: exactly the lines; S3 requests counted by the clients; the prices named
    const b = report.costBreakdown;
    expect(b.stateTransitions).toBeGreaterThan(0);
    expect(report.totalCostUsd).toBeCloseTo(b.computeUsd + b.publicIpv4Usd + b.cloudWatchLogsUsd + b.stateTransitionsUsd + b.s3RequestsUsd, 9);
    expect(b.lines.find((l) => l.item === 's3Tier1Requests')?.estimated).toBeUndefined();
    expect(report.priceBook).toMatchObject({ region: 'us-east-1', overrides: [] });
  });

  it('fails with exit 1, skips the dependents of a failed stage and still reports', async () => {
    // Prepare
    const repo = await makeGitRepo({
      '.buildfarm.yml': [
        'version: 1',
        'stages:',
        '  broken:',
        '    commands: ["echo about to fail", "exit 3", "echo never"]',
        '  after:',
        '    needs: [broken]',
        '    commands: [echo hi]',
        '  independent:',
        '    commands: [echo still runs]',
        '',
      ].join('\n'),
    });
    dirs.push(repo.path);
    // Act
    const dataPath = await dataDir();
    const run = await runCli(['run', repo.path, '--json', '--data', dataPath]);
    // Assess
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as BuildReport;
    expect(report.status).toBe('failed');
    const byName = Object.fromEntries(report.stages.map((s) => [s.name, s]));
    expect(byName.broken).toMatchObject({ status: 'failed', exitCode: 3, errorName: 'CommandFailed' });
    expect(byName.after.status).toBe('skipped');
    expect(byName.independent.status, `${JSON.stringify(byName.independent)}\n${stageLogs(dataPath)}`).toBe('succeeded');
  });

  it('ends an invalid pipeline file in a report with the error', async () => {
    // Prepare
    const repo = await makeGitRepo({ '.buildfarm.yml': 'version: 1\nstages:\n  a:\n    comands: [make]\n' });
    dirs.push(repo.path);
    // Act
    const dataPath = await dataDir();
    const run = await runCli(['run', repo.path, '--json', '--data', dataPath]);
    // Assess
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as BuildReport;
    expect(report.status).toBe('error');
    expect(report.error?.name).toBe('PipelineInvalid');
    expect(report.error?.message).toMatch(/\.buildfarm\.yml:4:5 stages\.a\.comands: unknown key "comands"/);
  });

  it('builds a folder inside a repository as its root', async () => {
    // Prepare
    const repo = await makeGitRepo({ 'README.md': 'monorepo\n', 'app/.buildfarm.yml': 'version: 1\nstages:\n  only:\n    commands: [test -f .buildfarm.yml, test ! -f README.md]\n' });
    dirs.push(repo.path);
    // Act
    const run = await runCli(['run', path.join(repo.path, 'app'), '--json', '--data', await dataDir()]);
    // Assess
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as BuildReport).stages.map((s) => [s.name, s.status])).toEqual([['only', 'succeeded']]);
  });

  it('exits 0 with a skipped build when on: does not trigger it', async () => {
    // Prepare: the test repository's branch is not a release branch
    const repo = await makeGitRepo({ '.buildfarm.yml': 'version: 1\non:\n  push:\n    branches: [release/**]\nstages:\n  a: { commands: [exit 1] }\n' });
    dirs.push(repo.path);
    // Act
    const dataPath = await dataDir();
    const run = await runCli(['run', repo.path, '--json', '--data', dataPath]);
    // Assess
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as BuildReport).status).toBe('skipped');
  });

  it('says clearly when the folder is not a git repository', async () => {
    const run = await runCli(['run', await dataDir()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is not inside a git repository/);
  });

  // What a user's `buildfarm run` starts: bin/buildfarm.mjs running the CLI bundle that
  // test/support/build-cli.ts built from these sources (BUILDFARM_CLI=bundle refuses a stale one).
  it('builds the example from the CLI bundle, as a process of its own', async () => {
    // Act
    const repo = await exampleRepo();
    const data = await dataDir();
    const child = spawnSync(process.execPath, [path.resolve(import.meta.dirname, '../../bin/buildfarm.mjs'), 'run', repo, '--json', '--data', data], {
      encoding: 'utf8',
      env: { ...process.env, BUILDFARM_CLI: 'bundle' },
    });
    // Assess
    expect(child.status, `${child.stdout.slice(0, 2000)}\n${child.stderr.slice(0, 2000)}\n${stageLogs(data)}`).toBe(0);
    expect((JSON.parse(child.stdout) as BuildReport).status).toBe('succeeded');
  });
});
