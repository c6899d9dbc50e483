/**
 * A local build in which a step with no Catch (`Release dependents`) fails while a sibling stage
 * still runs stops that stage and reports, as Step Functions does: the failed iteration fails the
 * `Run stages` Map, which stops its other iterations and the `.sync` tasks they run. It used to
 * report at once with the sibling still running, then wait for the sibling's own deadline before
 * returning (the interpreter stops the iterations' states, not the work their handlers started).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { buildFailureKey } from '../../functions/domain/storage-keys.js';
import { runLocalBuild } from '../../functions/local/run-local-build.js';
import { BuildAborted } from '../../functions/local/state-machine-runner.js';
import type { ArtifactStore } from '../../functions/ports/artifact-store.js';
import { aBuildRequest } from '../support/build-requests.js';
import { makeGitRepo } from '../support/git-repo.js';
import { oneRepositoryFarm } from '../support/one-repository-farm.js';
import { RecordingNotifier } from '../support/recording-notifier.js';

const REPOSITORY = 'octo/failed-execution';
const dirs: string[] = [];
let s3: EmbeddedS3;
let repo: { path: string; sha: string };
let stubborn: { path: string; sha: string };

beforeAll(async () => {
  repo = await makeGitRepo({
    // `quick` has a dependent, so its end goes through `Release dependents`.
    '.buildfarm.yml': 'version: 1\nstages:\n  quick:\n    commands: ["exit 3"]\n  slow:\n    commands: ["sleep 60"]\n  after:\n    needs: [quick]\n    commands: ["true"]\n',
  });
  // `slow` ignores SIGTERM: stopping it takes the executor's grace period, which the report waits out.
  stubborn = await makeGitRepo({
    '.buildfarm.yml': "version: 1\nstages:\n  quick:\n    commands: [\"exit 3\"]\n  slow:\n    commands: [\"trap '' TERM; for i in $(seq 60); do sleep 1; done\"]\n  after:\n    needs: [quick]\n    commands: [\"true\"]\n",
  });
  const data = await mkdtemp(join(tmpdir(), 'bf-failed-execution-'));
  dirs.push(repo.path, stubborn.path, data);
  s3 = await startEmbeddedS3(join(data, 's3'));
});

afterAll(async () => {
  await s3?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The farm's store, except that writing `key` fails (an S3 error the state machine does not catch). */
function failingOn(store: ArtifactStore, key: string): ArtifactStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'put') {
        return (written: string, ...rest: Parameters<ArtifactStore['put']> extends [string, ...infer R] ? R : never) =>
          written === key ? Promise.reject(new Error(`AccessDenied on ${written}`)) : target.put(written, ...rest);
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('Local farm: a failed execution', () => {
  it('stops its still-running stages and returns, rather than waiting for their deadlines', async () => {
    // Prepare: recording `quick`'s failure for fail-fast fails, so `Release dependents` fails
    const buildId = 'failed-execution-1';
    const farm = oneRepositoryFarm(dirs[2]!, s3, { name: REPOSITORY, path: repo.path });
    const started: string[] = [];
    const startedAt = Date.now();

    // Act
    const outcome = await runLocalBuild(
      { buildId, request: aBuildRequest({ repository: REPOSITORY, sha: repo.sha }) },
      { ...farm, countedStore: undefined, store: failingOn(farm.store, buildFailureKey(buildId)), maxStageConcurrency: 3 },
      { progress: { stageStarted: (stage) => started.push(stage) } },
    );
    const seconds = (Date.now() - startedAt) / 1000;

    // Assess: `slow` was running, was stopped rather than waited out, and the report says so
    expect(started.sort()).toEqual(['quick', 'slow']);
    expect(seconds).toBeLessThan(30);
    const status = Object.fromEntries(outcome.report.stages.map((stage) => [stage.name, stage.status]));
    expect(status).toMatchObject({ quick: 'failed', slow: 'cancelled' });
    // It says why: not "the build was stopped" (nobody stopped it), but what did
    const slow = outcome.report.stages.find((stage) => stage.name === 'slow');
    expect(slow?.reason).toMatch(/^another stage's step failed, and with it the build's `Run stages` Map, while "sleep 60" ran/);
    // The farm's own step failed (not a stage's commands): the build ends in error, as the execution-end rule reports it on AWS.
    expect(outcome.report.status).toBe('error');
  }, 90_000);

  it('publishes no report when the build is stopped while its report waits for the stopping stages', async () => {
    // Prepare: as above, with a `slow` stage that ignores SIGTERM
    const buildId = 'failed-execution-stopped-1';
    const reports = new RecordingNotifier();
    const farm = oneRepositoryFarm(dirs[2]!, s3, { name: REPOSITORY, path: stubborn.path }, { reports });
    const controller = new AbortController();

    // Act: stop the build half a second after `quick` has failed (the Map has failed; `slow` is being stopped)
    const outcome = runLocalBuild(
      { buildId, request: aBuildRequest({ repository: REPOSITORY, sha: stubborn.sha }) },
      { ...farm, countedStore: undefined, store: failingOn(farm.store, buildFailureKey(buildId)), maxStageConcurrency: 3 },
      {
        signal: controller.signal,
        progress: {
          stageFinished: (result) => {
            if (result.stage === 'quick') setTimeout(() => controller.abort(new Error('stopped by the test')), 500);
          },
        },
      },
    );
    const error = await outcome.then(() => undefined, (e: Error) => e);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // Assess: the farm records a stopped build as cancelled; a report saying `error` would contradict it
    expect(error).toBeInstanceOf(BuildAborted);
    expect(reports.published).toEqual([]);
  }, 90_000);
});
