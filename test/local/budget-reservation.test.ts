/**
 * Budget reservations on the local farm (the real state machine, handlers and embedded S3):
 * a build admitted under a budget holds its prediction while it runs; its report replaces it,
 * and a build stopped before its report (no Report state locally, and no execution-end rule)
 * lets it go too, so a cancelled build does not hold money until its reservation expires.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { S3SpendLedger } from '../../functions/adapters/s3-spend-ledger.js';
import { runLocalBuild } from '../../functions/local/run-local-build.js';
import { farmPolicyFromEnvironment } from '../../functions/handlers/farm-policy-environment.js';
import { aBuildRequest } from '../support/build-requests.js';
import { makeGitRepo } from '../support/git-repo.js';
import { oneRepositoryFarm } from '../support/one-repository-farm.js';

const REPOSITORY = 'octo/reserved';
const dirs: string[] = [];
let s3: EmbeddedS3;
let repo: { path: string; sha: string };

beforeAll(async () => {
  repo = await makeGitRepo({ '.buildfarm.yml': "version: 1\nstages:\n  test:\n    commands: ['sleep 30']\n    timeout: 5m\n" });
  const data = await mkdtemp(join(tmpdir(), 'bf-reserve-'));
  dirs.push(repo.path, data);
  s3 = await startEmbeddedS3(join(data, 's3'));
});

afterAll(async () => {
  await s3?.close();
  // A stopped build returns only once its stage has stopped and its folder is gone (stopped-build.test.ts).
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('Budget reservations on the local farm', () => {
  it('a running build holds its prediction; stopped before its report, it lets it go', async () => {
    const farm = oneRepositoryFarm(dirs[1]!, s3, { name: REPOSITORY, path: repo.path }, { policy: farmPolicyFromEnvironment({ BUILDFARM_DAILY_BUDGET_USD: '10' }) });
    const ledger = new S3SpendLedger(s3.store);
    const controller = new AbortController();
    let heldWhileRunning: number | undefined;

    // Act: stop the build once its stage runs
    const outcome = runLocalBuild({ buildId: 'reserved-1', request: aBuildRequest({ repository: REPOSITORY, sha: repo.sha }) }, farm, {
      signal: controller.signal,
      progress: {
        stageStarted: () => {
          void ledger.reservations().then((all) => {
            heldWhileRunning = all.filter((r) => r.buildId === 'reserved-1').reduce((sum, r) => sum + r.costUsd, 0);
            controller.abort(new Error('stopped by the test'));
          });
        },
      },
    });
    const settled = await outcome.then((o) => JSON.stringify({ status: o.report.status, reason: o.report.reason, stages: o.report.stages.map((st) => [st.status, st.reason]) }), (e: Error) => e);
    expect(settled).toBeInstanceOf(Error);

    // Assess
    expect(heldWhileRunning).toBeGreaterThan(0);
    expect(await ledger.reservations()).toEqual([]);
  }, 60_000);
});
