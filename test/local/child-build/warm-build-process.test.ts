/**
 * `buildfarm serve` keeps one build process forked and loaded ahead of the next
 * build (functions/local/child-build/warm-build-process.ts): a build takes it,
 * a replacement follows, closing the farm ends it, and one killed while idle is
 * replaced. Also: serve's stage concurrency reaches the build's process.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import { createChildProcessBuildRunner, type ChildProcessBuildRunner, type ChildProcessRunnerOptions } from '../../../functions/local/child-build/child-process-runner.js';
import type { FarmEvent } from '../../../functions/local/farm.js';
import type { LocalBuildSettings } from '../../../functions/local/local-build-runner.js';
import { defaultStageConcurrency } from '../../../functions/local/stage-concurrency.js';
import { startLocalFarm, type RunningLocalFarm } from '../../../functions/local/start-farm.js';
import { findDescendants } from '../../../functions/local/stop-descendants.js';
import { numberedPush } from '../../support/numbered-push.js';
import { isAlive } from '../../support/process-tree.js';

const REPOSITORY = 'octo-org/warm-farm';
const SETTINGS: LocalBuildSettings = { region: 'us-east-1', prices: DEFAULT_PRICE_BOOK, lambdaEphemeralStorageMB: 512 };
const HELLO = 'version: 1\nstages:\n  hello:\n    commands:\n      - echo hello\n';

interface WarmFarm {
  farm: RunningLocalFarm;
  runner: ChildProcessBuildRunner;
  /** Starts the build `id` of the repository's commit and waits for its record to settle. */
  build(id: string): ReturnType<RunningLocalFarm['farm']['settled']>;
}

describe('Local farm: one build process kept warm', { timeout: 60_000 }, () => {
  const directories: string[] = [];
  const farms: RunningLocalFarm[] = [];

  afterEach(async () => {
    for (const farm of farms.splice(0)) await farm.close();
    for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
  });

  async function startWarmFarm(pipeline: string, options: ChildProcessRunnerOptions, settings: Partial<LocalBuildSettings> = {}, onEvent?: (event: FarmEvent) => void): Promise<WarmFarm> {
    const directory = await mkdtemp(join(tmpdir(), 'warm-farm-'));
    directories.push(directory);
    const repo = join(directory, 'repo');
    await mkdir(repo);
    await writeFile(join(repo, '.buildfarm.yml'), pipeline);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim();
    git('init', '--quiet', '--initial-branch=main');
    git('add', '--all');
    git('commit', '--quiet', '-m', 'A pipeline');
    const sha = git('rev-parse', 'HEAD');
    let runner: ChildProcessBuildRunner | undefined;
    const farm = await startLocalFarm({
      dataDirectory: join(directory, 'data'),
      port: 0,
      repositories: [{ repository: REPOSITORY, path: repo }],
      secret: 'warm-farm-secret',
      secretFromEnvironment: true,
      region: 'us-east-1',
      createRunner: (context) => (runner = createChildProcessBuildRunner(context, { ...SETTINGS, ...settings }, options)),
      onEvent,
    });
    farms.push(farm);
    let sequence = 0;
    return {
      farm,
      runner: runner!,
      async build(id) {
        sequence += 1;
        const request = numberedPush(REPOSITORY, sha, sequence);
        await farm.farm.start(id, { buildId: id, request });
        return farm.farm.settled(id);
      },
    };
  }

  /** The pool's idle child once it has loaded. */
  async function loadedIdle(runner: ChildProcessBuildRunner, not?: number): Promise<number> {
    await expect.poll(() => runner.warm?.idle()?.loaded === true && runner.warm.idle()?.pid !== not, { timeout: 15_000, interval: 50 }).toBe(true);
    return runner.warm!.idle()!.pid;
  }

  it('runs each build in a child forked and loaded before the build was asked for, forks the next one after, and leaves no process behind on close', async () => {
    // Prepare
    const started = new Map<string, number>();
    const { farm, runner, build } = await startWarmFarm(HELLO, { keepOneWarm: true, onStarted: (id, pid) => started.set(id, pid) });
    const first = await loadedIdle(runner);

    // Act
    const one = await build('one');
    const second = await loadedIdle(runner, first);
    const two = await build('two');
    const third = await loadedIdle(runner, second);
    const helpers = (await findDescendants(third)).map((entry) => entry.pid);
    await farm.close();

    // Assess: each build ran in the child that was idle and loaded before it started
    expect(one.state, JSON.stringify(one.error)).toBe('succeeded');
    expect(two.state, JSON.stringify(two.error)).toBe('succeeded');
    expect(one.report?.status).toBe('succeeded');
    expect(two.report?.status).toBe('succeeded');
    expect(started.get('one')).toBe(first);
    expect(started.get('two')).toBe(second);
    expect(new Set([first, second, third]).size).toBe(3);
    // Closing the farm ended the idle child (and whatever it had started); the builds' children ended by themselves.
    expect(runner.warm?.idle()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([first, second, third, ...helpers].filter(isAlive)).toEqual([]);
  });

  it('ends a child closed while it is still loading', async () => {
    // Prepare: the runner's context is never used (no build runs)
    const context = { dataDirectory: '/nonexistent', s3: { endpoint: 'http://127.0.0.1:9', bucket: 'b' }, reports: { publish: async () => ({ messageId: 'm' }) }, repositories: [] };
    const runner = createChildProcessBuildRunner(context as never, SETTINGS, { keepOneWarm: true });
    const loading = runner.warm?.idle();

    // Act
    await runner.close();

    // Assess
    expect(loading?.loaded).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(loading!.pid)).toBe(false);
  });

  it('forgets an idle child killed from outside: the next build forks one and succeeds', async () => {
    // Prepare
    const started = new Map<string, number>();
    const { runner, build } = await startWarmFarm(HELLO, { keepOneWarm: true, onStarted: (id, pid) => started.set(id, pid) });
    const idle = await loadedIdle(runner);
    process.kill(idle, 'SIGKILL');
    await expect.poll(() => runner.warm?.idle(), { timeout: 10_000, interval: 20 }).toBeUndefined();

    // Act
    const record = await build('after-kill');

    // Assess
    expect(record.state, JSON.stringify(record.error)).toBe('succeeded');
    expect(record.report?.status).toBe('succeeded');
    expect(started.get('after-kill')).toBeGreaterThan(0);
    expect(started.get('after-kill')).not.toBe(idle);
  });

  it('runs at most maxStageConcurrency stages at once in the build\'s process', async () => {
    // Prepare: two independent stages; a limit other than the default (the machine's cores)
    const limit = defaultStageConcurrency() > 1 ? 1 : 2;
    let running = 0;
    let most = 0;
    const onEvent = (event: FarmEvent) => {
      if (event.type === 'stage-started') most = Math.max(most, ++running);
      if (event.type === 'stage-finished') running -= 1;
    };
    const pipeline = 'version: 1\nstages:\n  a:\n    commands:\n      - sleep 0.4\n  b:\n    commands:\n      - sleep 0.4\n';
    const { build } = await startWarmFarm(pipeline, {}, { maxStageConcurrency: limit }, onEvent);

    // Act
    const record = await build('limited');

    // Assess
    expect(record.state, JSON.stringify(record.error)).toBe('succeeded');
    expect(most).toBe(limit);
  });
});
