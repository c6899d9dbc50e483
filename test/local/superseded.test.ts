/**
 * `cancel-superseded: true` on the local farm as `buildfarm serve` starts it: real builds of a
 * mapped git repository through start-build, the local state machine and the stage agent.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git } from '../../functions/cli/git.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { startBuild } from '../../functions/handlers/start-build-core.js';
import type { FarmEvent } from '../../functions/local/farm.js';
import { createChildProcessBuildRunner } from '../../functions/local/child-build/child-process-runner.js';
import { startLocalFarm, type RunningLocalFarm } from '../../functions/local/start-farm.js';
import { pushRequest } from './support/test-farm.js';

const REPOSITORY = 'octo-org/hello-farm';

async function commit(repo: string, pipeline: string, message: string): Promise<string> {
  await writeFile(join(repo, '.buildfarm.yml'), pipeline);
  await git(repo, ['add', '--all']);
  await git(repo, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

describe('Local farm: superseded builds', { timeout: 120_000 }, () => {
  let directory: string | undefined;
  let farm: RunningLocalFarm | undefined;

  afterEach(async () => {
    await farm?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  async function start(onEvent: (event: FarmEvent) => void) {
    directory = await mkdtemp(join(tmpdir(), 'superseded-'));
    const repo = join(directory, 'repo');
    await mkdir(repo);
    await git(repo, ['init', '--quiet', '--initial-branch=main']);
    farm = await startLocalFarm({
      dataDirectory: join(directory, 'data'),
      port: 0,
      repositories: [{ repository: REPOSITORY, path: repo }],
      secret: 'unused',
      secretFromEnvironment: true,
      region: 'us-east-1',
      // In child processes, as `buildfarm serve` builds: the Plan step asks the farm for its running builds over IPC.
      createRunner: (context) => createChildProcessBuildRunner(context, { region: 'us-east-1', prices: DEFAULT_PRICE_BOOK, lambdaEphemeralStorageMB: 512 }),
      onEvent,
    });
    return { repo, farm };
  }

  /** Resolves once the stage `stage` of the build `id` has started. */
  function stageStarted(events: FarmEvent[], listeners: Array<() => void>, id: () => string | undefined, stage: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (events.some((e) => e.type === 'stage-started' && e.build.id === id() && e.stage.name === stage)) resolve();
      };
      listeners.push(check);
    });
  }

  function recorder() {
    const events: FarmEvent[] = [];
    const listeners: Array<() => void> = [];
    return {
      events,
      listeners,
      onEvent: (event: FarmEvent) => {
        events.push(event);
        for (const listener of listeners) listener();
      },
    };
  }

  it('stops the older running build of the branch when the newer push opts in, and builds the newer one', async () => {
    // Prepare: an older commit whose stage sleeps, running; then a newer commit of the same branch.
    const { events, listeners, onEvent } = recorder();
    const { repo, farm } = await start(onEvent);
    const olderSha = await commit(repo, 'version: 1\ncancel-superseded: true\nstages:\n  wait:\n    commands: [sleep 30]\n', 'Wait');
    let olderId: string | undefined;
    const olderRunning = stageStarted(events, listeners, () => olderId, 'wait');
    const older = await startBuild(pushRequest({ repository: REPOSITORY, sha: olderSha }), { starter: farm.farm });
    olderId = older.executionName;
    await olderRunning;
    const newerSha = await commit(repo, 'version: 1\ncancel-superseded: true\nstages:\n  wait:\n    commands: [echo done]\n', 'Do not wait');

    // Act
    const newer = await startBuild(pushRequest({ repository: REPOSITORY, sha: newerSha }), { starter: farm.farm });
    const [olderRecord, newerRecord] = await Promise.all([farm.farm.settled(older.executionName), farm.farm.settled(newer.executionName)]);

    // Assess
    expect(olderRecord.state).toBe('cancelled');
    expect(olderRecord.error).toEqual({ name: 'Cancelled', message: `superseded by ${newer.executionName}` });
    expect(olderRecord.stages.map((s) => [s.name, s.status])).toEqual([['wait', 'cancelled']]);
    expect(newerRecord.state).toBe('succeeded');
  });

  it('lets the older build run on when the newer push does not opt in', async () => {
    // Prepare: the older stage waits for a file the test writes only after the newer build ended.
    const { events, listeners, onEvent } = recorder();
    const { repo, farm } = await start(onEvent);
    const gate = join(directory!, 'gate');
    const olderSha = await commit(repo, `version: 1\nstages:\n  wait:\n    commands: ['while [ ! -e ${gate} ]; do sleep 0.1; done']\n`, 'Wait for the gate');
    let olderId: string | undefined;
    const olderRunning = stageStarted(events, listeners, () => olderId, 'wait');
    const older = await startBuild(pushRequest({ repository: REPOSITORY, sha: olderSha }), { starter: farm.farm });
    olderId = older.executionName;
    await olderRunning;
    const newerSha = await commit(repo, 'version: 1\nstages:\n  wait:\n    commands: [echo done]\n', 'Do not wait');

    // Act
    const newer = await startBuild(pushRequest({ repository: REPOSITORY, sha: newerSha }), { starter: farm.farm });
    const newerRecord = await farm.farm.settled(newer.executionName);
    const olderWhileNewerEnded = farm.farm.get(older.executionName)!.status;
    await writeFile(gate, '');
    const olderRecord = await farm.farm.settled(older.executionName);

    // Assess
    expect(newerRecord.state).toBe('succeeded');
    expect(olderWhileNewerEnded).toBe('running');
    expect(olderRecord.state).toBe('succeeded');
  });
});
