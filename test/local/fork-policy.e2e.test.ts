/**
 * End to end: fork pull requests through `buildfarm serve` as a user runs it. Each delivery is a
 * real `pull_request` payload from @octokit/webhooks-examples, turned into a fork's (its head in
 * another repository than its base), signed with the farm's secret and posted to its webhook.
 *
 * - `--forks off`: the build is refused, no stage runs, the reason names the setting.
 * - the default fork limit ($0.50): a fork asking for 8 vCPU for 3 hours is refused with the figures.
 * - the default `no-secrets`: the fork builds, a stage that declares a secret gets nothing (it
 *   fails before its commands run, as the runners do for forks), and the others run.
 * - `--forks build`: the same stage gets the secret (opt-in).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildSummary } from '../../functions/local/build-record.js';
import type { BuildDetail } from '../../functions/local/build-service.js';
import { sendSignedDelivery } from '../../functions/local/demo.js';
import { githubExample } from '../support/github-examples.js';
import { makeGitRepo } from '../support/git-repo.js';
import { startServe, type ServeProcess } from './support/serve-process.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SECRET = 'fork-e2e-webhook-secret';
const TOKEN = 'npm-token-4711-never-for-forks';
const FINAL = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped', 'refused'];

/** `publish` declares a secret and prints it (length and value); `test` declares none and looks for it anyway. */
const SECRETS_PIPELINE = `version: 1
stages:
  publish:
    commands:
      - 'echo "token length=\${#NPM_TOKEN}"'
      - 'printf %s "$NPM_TOKEN" | rev'
    secrets:
      NPM_TOKEN: ssm:/buildfarm/npm-token
  test:
    commands:
      - 'echo "token in test=[\${NPM_TOKEN:-}]"'
`;
/** A fork's author may ask for anything: 8 vCPU and 16 GB for three hours (about $1.18 on Fargate). */
const BIG_PIPELINE = `version: 1
stages:
  mine:
    commands: [sleep 10000]
    timeout: 3h
    resources: {cpu: 8, memory: 16GB}
`;

const dirs: string[] = [];
const serves: ServeProcess[] = [];
let app: { path: string; sha: string };
let big: { path: string; sha: string };

beforeAll(async () => {
  app = await makeGitRepo({ '.buildfarm.yml': SECRETS_PIPELINE });
  big = await makeGitRepo({ '.buildfarm.yml': BIG_PIPELINE });
  dirs.push(app.path, big.path);
});

afterAll(async () => {
  for (const serve of serves) await serve.stop('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A real pull_request payload, made a fork's: base `repository`, head in `forker/<name>`, at `sha`. */
function forkPullRequest(repository: string, sha: string): Record<string, unknown> {
  const payload = githubExample('pull_request', (p) => p.action === 'opened' && (p.pull_request as { head: { repo: unknown } }).head.repo !== null);
  const pullRequest = payload.pull_request as { head: { sha: string; ref: string; repo: { full_name: string } }; base: { ref: string; repo: { full_name: string } } };
  Object.assign(payload.repository as object, { full_name: repository });
  pullRequest.base.repo.full_name = repository;
  pullRequest.base.ref = 'main';
  pullRequest.head.repo.full_name = `forker/${repository.split('/')[1]}`;
  pullRequest.head.ref = 'patch-1';
  pullRequest.head.sha = sha;
  return payload;
}

async function startFarm(args: string[], repos: Record<string, string>): Promise<{ serve: ServeProcess; data: string }> {
  const data = await mkdtemp(join(tmpdir(), 'bf-forks-'));
  dirs.push(data);
  await mkdir(data, { recursive: true });
  // The local farm's secrets file: the value a stage would get if the policy let it.
  await writeFile(join(data, 'secrets.json'), JSON.stringify({ 'ssm:/buildfarm/npm-token': TOKEN }), { mode: 0o600 });
  const repoArgs = Object.entries(repos).flatMap(([name, path]) => ['--repo', `${name}=${path}`]);
  const serve = await startServe(['--port', '0', '--data-dir', data, ...repoArgs, ...args], { GITHUB_WEBHOOK_SECRET: SECRET });
  serves.push(serve);
  return { serve, data };
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

/** Delivers a fork's pull request and waits for its build to finish. */
async function buildFork(serve: ServeProcess, repository: string, sha: string): Promise<BuildDetail> {
  const delivery = await sendSignedDelivery(`${serve.url}/webhook`, SECRET, 'pull_request', forkPullRequest(repository, sha));
  expect(delivery.status, delivery.body).toBe(202);
  let id: string | undefined;
  await expect
    .poll(
      async () => {
        const build = (await getJson<BuildSummary[]>(`${serve.url}/api/builds`)).find((b) => b.repository === repository && b.sha === sha);
        id = build?.id;
        return build !== undefined && FINAL.includes(build.status);
      },
      { timeout: 90_000, interval: 250 },
    )
    .toBe(true);
  const detail = await getJson<BuildDetail>(`${serve.url}/api/builds/${encodeURIComponent(id!)}`);
  expect(detail.request.fromFork).toBe(true);
  return detail;
}

async function stageLog(serve: ServeProcess, build: BuildDetail, stage: string): Promise<string> {
  const response = await fetch(`${serve.url}/api/builds/${encodeURIComponent(build.id)}/stages/${stage}/log`);
  return response.ok ? response.text() : '';
}

describe('buildfarm serve: fork pull requests (end to end)', { timeout: 180_000 }, () => {
  it('--forks off: the fork\'s build is refused, no stage runs, the report names the setting', async () => {
    // Prepare
    const { serve, data } = await startFarm(['--forks', 'off'], { 'octo-org/app': app.path });

    // Act
    const build = await buildFork(serve, 'octo-org/app', app.sha);

    // Assess
    expect(build.status, serve.output()).toBe('refused');
    expect(build.report).toMatchObject({ status: 'refused', stages: [] });
    expect(build.report!.reason).toBe('pull requests from forks are not built on this farm (forks: off; BUILDFARM_FORKS / ForkPolicy)');
    expect(build.stages).toEqual([]);
    expect(await readdir(join(data, 'work')).catch(() => [])).toEqual([]);
    expect(serve.output()).toContain('policy     forks: off · fork builds at most $0.50 · builds no limit');
    expect(serve.output()).toContain('refused');
    const message = JSON.parse(build.reportMessage!.message) as { status: string; reason: string };
    expect(message).toMatchObject({ status: 'refused', reason: build.report!.reason });
    // The dashboard shows the refusal and why (headless Chromium).
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`${serve.url}/#/builds/${encodeURIComponent(build.id)}`);
      await page.locator('.refused-box').waitFor();
      expect(await page.locator('.build-head .pill-refused').innerText()).toContain('Refused');
      expect(await page.locator('.refused-box').innerText()).toContain('forks: off; BUILDFARM_FORKS / ForkPolicy');
    } finally {
      await browser.close();
    }
  });

  it('default policy: a fork over the $0.50 fork limit is refused with the figures; a cheap fork builds without secrets', async () => {
    // Prepare
    const { serve } = await startFarm([], { 'octo-org/big': big.path, 'octo-org/app': app.path });

    // Act
    const refused = await buildFork(serve, 'octo-org/big', big.sha);
    const built = await buildFork(serve, 'octo-org/app', app.sha);

    // Assess: the expensive fork ran nothing
    expect(refused.status, serve.output()).toBe('refused');
    expect(refused.report!.reason).toMatch(/^predicted \$1\.\d{2} exceeds the fork build limit \$0\.50 \(BUILDFARM_MAX_FORK_BUILD_COST_USD \/ MaxForkBuildCostUsd\)$/);
    expect(refused.report!.predictedCostUsd).toBeGreaterThan(0.5);
    expect(refused.report!.stages).toEqual([]);
    // ...the cheap one built, and no stage saw the secret
    expect(built.plan!.secretsWithheld).toBe(true);
    const publish = built.report!.stages.find((s) => s.name === 'publish')!;
    const test = built.report!.stages.find((s) => s.name === 'test')!;
    expect(publish).toMatchObject({ status: 'failed', errorName: 'SecretsDeniedForFork' });
    expect(test.status).toBe('succeeded');
    const logs = `${await stageLog(serve, built, 'publish')}${await stageLog(serve, built, 'test')}`;
    expect(logs).toContain('token in test=[]');
    expect(logs).not.toContain('token length=');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain([...TOKEN].reverse().join(''));
  });

  it('--forks build: the fork\'s stage gets the secret it declared (the opt-in the docs warn about)', async () => {
    // Prepare
    const { serve } = await startFarm(['--forks', 'build'], { 'octo-org/app': app.path });

    // Act
    const build = await buildFork(serve, 'octo-org/app', app.sha);

    // Assess
    expect(serve.output()).toContain('forks: build (WARNING: fork pull requests get the secrets their stages declare)');
    expect(build.status, serve.output()).toBe('succeeded');
    expect(build.plan!.secretsWithheld).toBe(false);
    const log = await stageLog(serve, build, 'publish');
    expect(log).toContain(`token length=${TOKEN.length}`);
    // The log masks the value itself, but a stage can always print it transformed: declared secrets reach the fork's author.
    expect(log).toContain([...TOKEN].reverse().join(''));
  });
});
