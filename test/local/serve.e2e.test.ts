/**
 * End to end: `buildfarm serve --demo` as `npm start` runs it, on a free
 * port, in a fresh data directory: the demo build goes from the farm's own
 * signed webhook through the bus, start-build and the real state machine to
 * its artifacts in the embedded S3 and its cost report on the bus.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../functions/cli/git.js';
import type { BuildRecord, BuildSummary } from '../../functions/local/build-record.js';
import { sendSignedDelivery } from '../../functions/local/demo.js';
import { githubExample } from '../support/github-examples.js';
import type { BuildDetail } from '../../functions/local/build-service.js';
import type { BusMessage } from '../../functions/adapters/local/local-bus.js';
import { runServeToExit, startServe, type ServeProcess } from './support/serve-process.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = join(process.cwd(), 'test-results', 'dashboard');
const FINAL = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped'];

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  return (await response.json()) as T;
}

describe('buildfarm serve --demo (end to end)', { timeout: 180_000 }, () => {
  let directory: string;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
  });

  afterAll(async () => {
    await serve?.stop('SIGKILL');
    await rm(directory, { recursive: true, force: true });
  });

  it('builds the example on first start: artifacts in the embedded S3, the cost report on the bus', async () => {
    // Act
    serve = await startServe(['--demo', '--port', '0', '--data-dir', directory]);
    await expect
      .poll(async () => (await getJson<BuildSummary[]>(`${serve!.url}/api/builds`)).some((b) => FINAL.includes(b.status)), { timeout: 120_000, interval: 500 })
      .toBe(true);
    const [demo] = await getJson<BuildSummary[]>(`${serve.url}/api/builds`);
    const detail = await getJson<BuildDetail>(`${serve.url}/api/builds/${demo.id}`);
    // Assess: the build, with a Lambda stage and a Fargate stage.
    expect(detail.status, serve.output()).toBe('succeeded');
    expect(detail.repository).toBe('buildfarm-demo/hello-farm');
    const runners = new Set(detail.report!.stages.map((s) => s.runner));
    expect([...runners].sort()).toEqual(['fargate', 'lambda']);
    // Every artifact the report lists comes out of its stage's archive, whole (served by the API).
    const artifacts = detail.report!.stages.flatMap((stage) => stage.artifacts.map((artifact) => ({ stage: stage.name, ...artifact })));
    expect(artifacts.map((a) => a.path)).toEqual(expect.arrayContaining(['release/hello-farm.tar.gz']));
    for (const artifact of artifacts) {
      const response = await fetch(`${serve.url}/api/builds/${demo.id}/stages/${artifact.stage}/artifacts/${artifact.path}`);
      expect(response.status, artifact.path).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).length).toBe(artifact.size);
    }
    // The cost report went out on the BuildReports topic of the local bus.
    const reports = await getJson<BusMessage[]>(`${serve.url}/api/messages?topic=BuildReports`);
    const published = reports.find((m) => m.message.includes(demo.id));
    expect(published).toBeDefined();
    expect(detail.reportMessage?.messageId).toBe(published!.messageId);
    // ...and the terminal showed it stage by stage.
    for (const stage of detail.report!.stages) expect(serve.output()).toContain(stage.name);
  });

  it('shows the demo build in the dashboard (headless Chromium): stages, timeline and costs', async () => {
    // Prepare
    const [demo] = await getJson<BuildSummary[]>(`${serve!.url}/api/builds`);
    const detail = await getJson<BuildDetail>(`${serve!.url}/api/builds/${demo.id}`);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // Act
      await page.goto(`${serve!.url}/`);
      await page.locator(`tr[data-build="${demo.id}"]`).waitFor();
      const row = await page.locator(`tr[data-build="${demo.id}"]`).innerText();
      await page.locator(`tr[data-build="${demo.id}"] a.repo`).click();
      await page.locator('.stage-node').first().waitFor();
      // Assess
      expect(row).toContain('buildfarm-demo/hello-farm');
      expect(row).toContain('Passed');
      for (const stage of detail.report!.stages) {
        expect(await page.locator(`.stage-node[data-stage="${stage.name}"] .runner-${stage.runner}`).count()).toBe(1);
        expect(await page.locator(`.gantt-row[data-stage="${stage.name}"] .bar-${stage.runner}`).count()).toBe(1);
      }
      const costs = await page.locator('.cost-table').innerText();
      expect(costs).toContain('Total');
      expect(costs).toContain('The same stages all on Fargate');
      await mkdir(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'demo-build.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('stops cleanly on Ctrl-C and keeps the build across a restart without building the demo again', async () => {
    // Prepare
    const before = await getJson<BuildSummary[]>(`${serve!.url}/api/builds`);
    // Act
    const code = await serve!.stop('SIGINT');
    serve = await startServe(['--demo', '--port', '0', '--data-dir', directory]);
    await expect.poll(() => serve!.output(), { timeout: 30_000 }).toMatch(/demo: /);
    const after = await getJson<BuildSummary[]>(`${serve.url}/api/builds`);
    // Assess
    expect(code).toBe(0);
    expect(after).toEqual(before);
    expect(serve.output()).toContain('demo: already built');
    await serve.stop('SIGINT');
  });
});

describe('buildfarm serve (clear errors)', () => {
  it('says so when the port is in use', async () => {
    // Prepare
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
    // Act
    const result = await runServeToExit(['--port', String(port), '--data-dir', directory]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(result.output).not.toMatch(/\n\s+at /);
    blocker.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('says so when git is missing', async () => {
    // Prepare: a PATH with node but without git.
    const directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
    // Act
    const result = await runServeToExit(['--port', '0', '--data-dir', directory], { PATH: directory });
    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('git is not installed');
    await rm(directory, { recursive: true, force: true });
  });

  it('says which --repo path is missing or not a git repository', async () => {
    // Prepare
    const directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
    // Act
    const missing = await runServeToExit(['--repo', `octo/a=${join(directory, 'nope')}`, '--port', '0', '--data-dir', join(directory, 'data')]);
    const notGit = await runServeToExit(['--repo', `octo/b=${directory}`, '--port', '0', '--data-dir', join(directory, 'data')]);
    // Assess
    expect(missing.code).toBe(1);
    expect(missing.output).toContain(`--repo octo/a=${join(directory, 'nope')}: no such directory`);
    expect(notGit.code).toBe(1);
    expect(notGit.output).toContain(`--repo octo/b=${directory}: not a git repository`);
    await rm(directory, { recursive: true, force: true });
  });

  it('rejects a --repo that is not OWNER/NAME=PATH', async () => {
    // Act
    const result = await runServeToExit(['--repo', 'just-a-name', '--port', '0']);
    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('--repo: "just-a-name" is not OWNER/NAME=PATH');
  });
});

describe('buildfarm serve (Ctrl-C while a stage runs)', { timeout: 120_000 }, () => {
  it('stops the running stage\'s processes, marks the build cancelled and exits 0', async () => {
    // Prepare: a mapped repository whose only stage sleeps far longer than the test.
    const directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
    const repo = join(directory, 'slow');
    const marker = `sleep ${9000 + Math.floor(Math.random() * 900)}`;
    await mkdir(repo);
    await writeFile(join(repo, '.buildfarm.yml'), `version: 1\nstages:\n  slow:\n    commands:\n      - ${marker} && echo done\n`);
    await git(repo, ['init', '--quiet', '--initial-branch=main']);
    await git(repo, ['add', '--all']);
    await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'Sleep a long time']);
    const sha = await git(repo, ['rev-parse', 'HEAD']);
    const payload = githubExample('push', (p) => (p.ref as string).startsWith('refs/heads/') && p.deleted === false);
    Object.assign(payload, { after: sha, ref: 'refs/heads/main' });
    Object.assign(payload.repository as object, { full_name: 'octo-org/slow' });
    Object.assign(payload.head_commit as object, { id: sha });
    const serve = await startServe(['--port', '0', '--data-dir', join(directory, 'data'), '--repo', `octo-org/slow=${repo}`], { GITHUB_WEBHOOK_SECRET: 'e2e-secret' });
    try {
      const delivery = await sendSignedDelivery(`${serve.url}/webhook`, 'e2e-secret', 'push', payload);
      expect(delivery.status).toBe(202);
      await expect
        .poll(async () => (await processesRunning(marker)).length, { timeout: 60_000, interval: 250 })
        .toBeGreaterThan(0);
      const [build] = await getJson<BuildSummary[]>(`${serve.url}/api/builds`);
      // Act
      const code = await serve.stop('SIGINT');
      // Assess
      expect(code, serve.output()).toBe(0);
      expect(await processesRunning(marker)).toEqual([]);
      const record = JSON.parse(await readFile(join(directory, 'data', 'builds', `${build.id}.json`), 'utf8')) as BuildRecord;
      expect(record.state).toBe('cancelled');
      expect(record.stages.find((s) => s.name === 'slow')?.status).toBe('cancelled');
    } finally {
      await serve.stop('SIGKILL');
      for (const pid of await processesRunning(marker)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await rm(directory, { recursive: true, force: true });
    }
  });
});

/** Pids of live processes whose command line contains `text`. */
async function processesRunning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    if (!zombie && cmdline.replaceAll('\0', ' ').includes(text)) pids.push(Number(name));
  }
  return pids;
}
