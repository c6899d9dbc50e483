/**
 * End to end through `buildfarm serve`'s webhook intake, with real payloads from
 * @octokit/webhooks-examples, signed and posted as GitHub would:
 *
 * - the pull request cost check: a push to main builds and becomes main's record; a
 *   pull_request into main whose stage runs longer is compared with it, stage by stage, and
 *   with `--pr-cost-threshold 5` its cost status fails;
 * - budgets on the local path: a repository whose daily budget its build would pass is refused
 *   before any stage runs, with a reason naming the budget and the figures; a build admitted
 *   under a budget holds its prediction while it runs (the dashboard shows it held) and its
 *   actual cost replaces it when it is reported.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitStatuses } from '../../functions/domain/report/commit-statuses.js';
import type { BuildSummary } from '../../functions/local/build-record.js';
import type { BuildDetail } from '../../functions/local/build-service.js';
import { sendSignedDelivery } from '../../functions/local/demo.js';
import { githubExample } from '../support/github-examples.js';
import { makeGitRepo } from '../support/git-repo.js';
import { startServe, type ServeProcess } from './support/serve-process.js';

const SECRET = 'cost-e2e-webhook-secret';
const FINAL = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped', 'refused'];
const pipeline = (seconds: number) => `version: 1\nstages:\n  test:\n    commands: ['sleep ${seconds}']\n`;

const dirs: string[] = [];
let serve: ServeProcess | undefined;
let repo: { path: string; main: string; feature: string };
let capped: { path: string; sha: string };

beforeAll(async () => {
  const made = await makeGitRepo({ '.buildfarm.yml': pipeline(1) });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: made.path, encoding: 'utf8' }).trim();
  git('checkout', '-q', '-b', 'feature');
  await writeFile(join(made.path, '.buildfarm.yml'), pipeline(7));
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', 'slower tests');
  repo = { path: made.path, main: made.sha, feature: git('rev-parse', 'HEAD') };
  capped = await makeGitRepo({ '.buildfarm.yml': pipeline(1) });
  const data = await mkdtemp(join(tmpdir(), 'bf-cost-'));
  dirs.push(made.path, capped.path, data);
  serve = await startServe(
    ['--port', '0', '--data-dir', data, '--repo', `octo-org/app=${repo.path}`, '--repo', `octo-org/capped=${capped.path}`,
      '--pr-cost-threshold', '5', '--repo-daily-budget', 'octo-org/capped=0.01', '--repo-monthly-budget', 'octo-org/app=100'],
    { GITHUB_WEBHOOK_SECRET: SECRET },
  );
});

afterAll(async () => {
  await serve?.stop('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function pushPayload(repository: string, sha: string): Record<string, unknown> {
  const payload = githubExample('push', (p) => (p.ref as string).startsWith('refs/heads/') && p.deleted === false);
  Object.assign(payload, { after: sha, ref: 'refs/heads/main' });
  Object.assign(payload.repository as object, { full_name: repository });
  if (payload.head_commit) Object.assign(payload.head_commit as object, { id: sha, message: 'build' });
  return payload;
}

function pullRequestPayload(repository: string, sha: string): Record<string, unknown> {
  const payload = githubExample('pull_request', (p) => p.action === 'opened' && (p.pull_request as { head: { repo: unknown } }).head.repo !== null);
  const pr = payload.pull_request as { head: { sha: string; ref: string; repo: { full_name: string } }; base: { ref: string; repo: { full_name: string } } };
  Object.assign(payload.repository as object, { full_name: repository });
  pr.base.repo.full_name = repository;
  pr.base.ref = 'main';
  pr.head.repo.full_name = repository; // not a fork
  pr.head.ref = 'feature';
  pr.head.sha = sha;
  return payload;
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

interface FarmInfo { budgets: { budget: string; limitUsd: number; spentUsd: number; heldUsd: number }[] }
const APP_BUDGET = 'the monthly budget of octo-org/app';

async function deliverAndWait(event: 'push' | 'pull_request', payload: Record<string, unknown>, repository: string, sha: string): Promise<BuildDetail> {
  const delivery = await sendSignedDelivery(`${serve!.url}/webhook`, SECRET, event, payload);
  expect(delivery.status, delivery.body).toBe(202);
  let id: string | undefined;
  await expect
    .poll(
      async () => {
        const build = (await getJson<BuildSummary[]>(`${serve!.url}/api/builds`)).find((b) => b.repository === repository && b.sha === sha);
        id = build?.id;
        return build !== undefined && FINAL.includes(build.status);
      },
      { timeout: 120_000, interval: 250 },
    )
    .toBe(true);
  return getJson<BuildDetail>(`${serve!.url}/api/builds/${encodeURIComponent(id!)}`);
}

describe('buildfarm serve: cost checks (end to end)', { timeout: 300_000 }, () => {
  it('a pull request is compared with main\'s last successful build, and fails its cost status over the threshold', async () => {
    // Act: main first, then the pull request whose test stage sleeps 7 s instead of 1 s
    const main = await deliverAndWait('push', pushPayload('octo-org/app', repo.main), 'octo-org/app', repo.main);
    // ... watching the dashboard's budget line while the pull request's build runs
    let maxHeldUsd = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const line = (await getJson<FarmInfo>(`${serve!.url}/api/farm`)).budgets.find((b) => b.budget === APP_BUDGET);
        maxHeldUsd = Math.max(maxHeldUsd, line?.heldUsd ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const pr = await deliverAndWait('pull_request', pullRequestPayload('octo-org/app', repo.feature), 'octo-org/app', repo.feature);
    watching = false;
    await watch;

    // Assess: the running build held its prediction; once reported, its actual replaced it.
    // (The plan's compute prediction, which budgets check; the report's prediction adds orchestration and S3.)
    expect(maxHeldUsd).toBeGreaterThan(0);
    expect(maxHeldUsd).toBeLessThanOrEqual(pr.report!.predictedCostUsd);
    const after = (await getJson<FarmInfo>(`${serve!.url}/api/farm`)).budgets.find((b) => b.budget === APP_BUDGET)!;
    expect(after.heldUsd).toBe(0);
    expect(after.spentUsd).toBeCloseTo(main.report!.totalCostUsd + pr.report!.totalCostUsd, 5);

    // Assess
    expect(main.status, serve!.output()).toBe('succeeded');
    expect(main.report!.prCost).toBeUndefined();
    expect(pr.status, serve!.output()).toBe('succeeded');
    const comparison = pr.report!.prCost!;
    expect(comparison).toMatchObject({ baseBranch: 'main', baseBuildId: main.id, baseSha: repo.main, thresholdPercent: 5, overThreshold: true });
    const test = comparison.stages.find((s) => s.name === 'test')!;
    expect(test.baseCostUsd).toBe(main.report!.stages.find((s) => s.name === 'test')!.costUsd);
    expect(test.changePercent!).toBeGreaterThan(100); // about 7 s of Lambda against about 1 s
    expect(comparison.changePercent!).toBeGreaterThan(5);
    const status = commitStatuses(pr.report!, 'http://dashboard').find((s) => s.context === 'buildfarm-cost')!;
    expect(status.state).toBe('failure');
    expect(status.description).toMatch(/^\+\d+(\.\d)?% vs main \(\$[\d.]+ vs \$[\d.]+; most: test \+\d+(\.\d)?%\) — over the 5% threshold$/);
  });

  it('a build that would pass its repository\'s daily budget is refused before any stage runs', async () => {
    const build = await deliverAndWait('push', pushPayload('octo-org/capped', capped.sha), 'octo-org/capped', capped.sha);
    expect(build.status, serve!.output()).toBe('refused');
    expect(build.report!.stages).toEqual([]);
    expect(build.report!.reason).toMatch(
      /^predicted \$0\.\d+ would take spend past the daily budget of octo-org\/capped \$0\.01: \$0\.0000 spent today \(UTC\) \(BUILDFARM_REPO_DAILY_BUDGETS_USD \/ RepoDailyBudgetsUSD\)$/,
    );
    const status = commitStatuses(build.report!, 'http://dashboard').find((s) => s.context === 'buildfarm')!;
    expect(status.state).toBe('error');
    // The dashboard's header data: spend against the budget, from the same ledger.
    const info = await getJson<FarmInfo>(`${serve!.url}/api/farm`);
    expect(info.budgets).toEqual([
      { budget: 'the daily budget of octo-org/capped', limitUsd: 0.01, spentUsd: expect.any(Number), heldUsd: 0 },
      { budget: APP_BUDGET, limitUsd: 100, spentUsd: expect.any(Number), heldUsd: 0 },
    ]);
    expect(info.budgets[0]!.spentUsd).toBeLessThan(0.01);
  });
});
