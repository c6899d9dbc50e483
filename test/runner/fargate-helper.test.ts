import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan, PlannedStage } from '../../functions/domain/plan/types.js';
import type { StageResult } from '../../functions/domain/report/types.js';
import type { ArtifactStore, StoredObject } from '../../functions/ports/artifact-store.js';
import {
  contextFromEnv,
  runFetch,
  runHelper,
  runPublish,
  type HelperContext,
  type HelperDeps,
} from '../../functions/runner/fargate-helper.js';

/** An in-memory artifact store (the port's contract, nothing more). */
class MemoryStore implements ArtifactStore {
  readonly objects = new Map<string, Buffer>();
  async put(key: string, body: Readable | Buffer | string): Promise<void> {
    if (typeof body === 'string' || Buffer.isBuffer(body)) this.objects.set(key, Buffer.from(body));
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      this.objects.set(key, Buffer.concat(chunks));
    }
  }
  async get(key: string): Promise<Readable | undefined> {
    const body = this.objects.get(key);
    return body ? Readable.from([body]) : undefined;
  }
  async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.toString('utf8');
  }
  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const [key, body] of this.objects) if (key.startsWith(prefix)) yield { key, size: body.length };
  }
}

const BUILD = 'delivery-1';
const PLAN_KEY = `builds/${BUILD}/plan.json`;
const keys = {
  stageLogKey: (b: string, s: string) => `builds/${b}/stages/${s}/log.txt`,
  manifestKey: (b: string, s: string) => `builds/${b}/stages/${s}/manifest.json`,
  stageResultKey: (b: string, s: string) => `builds/${b}/stages/${s}/result.json`,
};

let dir: string;
let context: HelperContext;
let store: MemoryStore;
let clock: number;
let exitCode: number | undefined;
let workspaceRequests: unknown[];

function stage(overrides: Partial<PlannedStage> = {}): PlannedStage {
  return {
    name: 'test',
    wave: 0,
    runner: 'fargate',
    reason: '',
    timeoutSeconds: 600,
    needs: ['build'],
    upstream: ['build'],
    commands: ['echo "hello $GREETING" > out.txt', 'cat out.txt'],
    env: { GREETING: "it's me" },
    secrets: {},
    artifacts: ['out.txt'],
    image: 'alpine:3',
    runAsRoot: true,
    fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 21, architecture: 'x86_64', spot: false },
    predictedDurationSeconds: 60,
    predictedFrom: 'timeout',
    predictedCostUsd: 0,
    ...overrides,
  };
}

function storePlan(s: PlannedStage): void {
  const plan: Plan = { version: 1, waves: [[s.name]], stages: [s], skipped: [], failFast: false, cancelSuperseded: false, region: 'eu-west-1', predictedCostUsd: 0 };
  store.objects.set(PLAN_KEY, Buffer.from(JSON.stringify(plan)));
}

function deps(): HelperDeps {
  return {
    store,
    async prepareWorkspace(request, _store, log) {
      workspaceRequests.push(request);
      log.line('workspace ready');
    },
    async findArtifacts(workspace, globs) {
      const files = globs.filter((g) => {
        try {
          readFileSync(join(workspace, g));
          return true;
        } catch {
          return false;
        }
      });
      return { files, unmatched: globs.filter((g) => !files.includes(g)) };
    },
    async uploadArtifacts(workspace, files, target, s) {
      for (const f of files) await s.put(`builds/${target.buildId}/stages/${target.stage}/artifacts/${f}`, readFileSync(join(workspace, f)));
      return files.map((f) => ({ path: f, size: readFileSync(join(workspace, f)).length, sha256: 'x' }));
    },
    keys,
    log: { line: () => undefined },
    now: () => clock,
    taskMetadata: async () => ({
      Containers: [
        { Name: 'fetch', KnownStatus: 'STOPPED', ExitCode: 0 },
        ...(exitCode === undefined ? [] : [{ Name: 'build', KnownStatus: 'STOPPED', ExitCode: exitCode }]),
        { Name: 'publish', KnownStatus: 'RUNNING' },
      ],
    }),
  };
}

/** What the build container does: run stage.sh; its exit code is what the metadata endpoint reports. */
function runBuildContainer(): number {
  const run = spawnSync('sh', [join(context.helperDir, 'stage.sh')], { encoding: 'utf8' });
  return run.status ?? -1;
}

function resultOf(): StageResult {
  return JSON.parse(store.objects.get(keys.stageResultKey(BUILD, 'test'))!.toString('utf8'));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fargate-helper-'));
  context = {
    buildId: BUILD,
    stageName: 'test',
    planKey: PLAN_KEY,
    workspace: join(dir, 'workspace'),
    workspaceUid: 0,
    fromFork: false,
    helperDir: join(dir, 'buildfarm'),
    logsDir: join(dir, 'logs'),
  };
  for (const d of [context.workspace, context.helperDir, context.logsDir]) mkdirSync(d);
  store = new MemoryStore();
  clock = Date.parse('2026-11-22T10:00:00Z');
  exitCode = undefined;
  workspaceRequests = [];
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Function: runFetch then runPublish', () => {
  it('prepares the workspace with the stage’s disk as the limit and writes scripts the build container can run', async () => {
    // Prepare
    storePlan(stage());

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    clock += 42_000;
    const result = await runPublish(context, deps());

    // Assess
    expect(workspaceRequests).toEqual([
      { buildId: BUILD, upstream: ['build'], workspace: context.workspace, limitBytes: 21 * 1024 ** 3, limitIsDisk: true },
    ]);
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, runner: 'fargate', artifactCount: 1, durationMs: 42_000 });
    expect(store.objects.get(`builds/${BUILD}/stages/test/artifacts/out.txt`)!.toString()).toBe("hello it's me\n");
    expect(store.objects.get(keys.stageLogKey(BUILD, 'test'))!.toString()).toContain("hello it's me");
    expect(JSON.parse(store.objects.get(keys.manifestKey(BUILD, 'test'))!.toString())).toEqual([
      { path: 'out.txt', size: 14, sha256: 'x' },
    ]);
    expect(resultOf()).toEqual(result);
  });

  it('records a failed command with its exit code and uploads no artifacts', async () => {
    // Prepare
    storePlan(stage({ commands: ['echo built > out.txt', 'exit 7'] }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    const result = await runPublish(context, deps());

    // Assess
    expect(exitCode).toBe(7);
    expect(result).toMatchObject({ status: 'failed', exitCode: 7, errorName: 'CommandFailed', artifactCount: 0 });
    expect([...store.objects.keys()].some((k) => k.includes('/artifacts/'))).toBe(false);
  });

  it('records a build container that never ran as a failure without exit code', async () => {
    // Prepare
    storePlan(stage());

    // Act: metadata lists no build exit code
    const result = await runPublish(context, deps());

    // Assess
    expect(result).toMatchObject({ status: 'failed', exitCode: null, errorName: 'StageError' });
  });

  it('gives a fork\'s stage no secrets: SecretsDeniedForFork, recorded in its result', async () => {
    // Prepare
    storePlan(stage({ secrets: { TOKEN: { source: 'secretsmanager', id: 'buildfarm/token', raw: 'secretsmanager:buildfarm/token' } } }));

    // Act
    const attempt = runFetch({ ...context, fromFork: true }, deps());

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'SecretsDeniedForFork' });
    expect(resultOf()).toMatchObject({ status: 'failed', errorName: 'SecretsDeniedForFork' });
    expect(workspaceRequests).toEqual([]);
  });

  it('writes the result record itself when fetch fails, then fails', async () => {
    // Prepare
    storePlan(stage());
    const failing = { ...deps(), prepareWorkspace: async () => { throw Object.assign(new Error('no source snapshot'), { name: 'SnapshotMissing' }); } };

    // Act
    const attempt = runFetch(context, failing);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'SnapshotMissing' });
    expect(resultOf()).toMatchObject({ status: 'failed', errorName: 'SnapshotMissing', reason: 'no source snapshot', exitCode: null });
  });
});

describe('Function: runHelper', () => {
  it('refuses an unknown mode as HelperMisconfigured', async () => {
    storePlan(stage());
    const env = { BUILDFARM_HELPER_MODE: 'deploy', BUILDFARM_BUILD_ID: BUILD, BUILDFARM_STAGE: 'test', BUILDFARM_PLAN_KEY: PLAN_KEY };
    await expect(runHelper(env, deps())).rejects.toMatchObject({ name: 'HelperMisconfigured' });
  });

  it('reads the run identity from the overrides’ environment', () => {
    const env = { BUILDFARM_BUILD_ID: BUILD, BUILDFARM_STAGE: 'test', BUILDFARM_PLAN_KEY: PLAN_KEY, BUILDFARM_WORKSPACE_UID: '65534', BUILDFARM_FROM_FORK: 'true' };
    expect(contextFromEnv(env)).toEqual({
      buildId: BUILD,
      stageName: 'test',
      planKey: PLAN_KEY,
      workspace: '/workspace',
      workspaceUid: 65534,
      fromFork: true,
      helperDir: '/buildfarm',
      logsDir: '/buildfarm-logs',
    });
    expect(() => contextFromEnv({})).toThrow(expect.objectContaining({ name: 'HelperMisconfigured' }));
  });
});
