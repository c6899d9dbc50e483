/**
 * A stopped local build returns only once its stages have finished stopping (in-flight.ts): the
 * interpreter stops at once, but a stage whose command ignores SIGTERM is still being stopped
 * (then killed) by its executor, which retires its work folder after that. Returning earlier let
 * the folder appear under the data directory after the build was over (a caller deleting the
 * data directory then failed with ENOTEMPTY: a CI flake).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { runLocalBuild } from '../../functions/local/run-local-build.js';
import { aBuildRequest } from '../support/build-requests.js';
import { makeGitRepo } from '../support/git-repo.js';
import { oneRepositoryFarm } from '../support/one-repository-farm.js';

const REPOSITORY = 'octo/stopped';
const dirs: string[] = [];
let s3: EmbeddedS3;
let repo: { path: string; sha: string };

beforeAll(async () => {
  // Ignores SIGTERM: the executor's stop has to wait and kill it.
  repo = await makeGitRepo({ '.buildfarm.yml': "version: 1\nstages:\n  stubborn:\n    commands: [\"trap '' TERM; for i in $(seq 60); do sleep 1; done\"]\n" });
  const data = await mkdtemp(join(tmpdir(), 'bf-stopped-'));
  dirs.push(repo.path, data);
  s3 = await startEmbeddedS3(join(data, 's3'));
});

afterAll(async () => {
  await s3?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Every file and folder under `root`, folders that hold nothing but folders left out. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

describe('Local farm: stopping a build', () => {
  it('returns once its running stage has stopped and its work folder is gone', async () => {
    // Prepare
    const farm = oneRepositoryFarm(dirs[1]!, s3, { name: REPOSITORY, path: repo.path });
    const controller = new AbortController();
    let startedAt = 0;

    // Act: stop the build a second after its stage starts
    const outcome = runLocalBuild({ buildId: 'stopped-1', request: aBuildRequest({ repository: REPOSITORY, sha: repo.sha }) }, farm, {
      signal: controller.signal,
      progress: {
        stageStarted: () => {
          startedAt = Date.now();
          setTimeout(() => controller.abort(new Error('stopped by the test')), 1_000);
        },
      },
    });
    const error = await outcome.then(() => undefined, (e: Error) => e);
    const left = await filesUnder(farm.workRoot);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(startedAt).toBeGreaterThan(0);
    expect(left).toEqual([]);
  }, 90_000);
});
