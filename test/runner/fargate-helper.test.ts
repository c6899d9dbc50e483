import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan, PlannedStage } from '../../functions/domain/plan/types.js';
import type { StageResult } from '../../functions/domain/report/types.js';
import type { ArtifactStore, StoredObject } from '../../functions/ports/artifact-store.js';
import { runHelper } from '../../functions/runner/fargate-helper.js';
import { runFetch } from '../../functions/runner/fargate/fetch.js';
import { contextFromEnv, type HelperContext } from '../../functions/runner/fargate/helper-context.js';
import type { HelperDeps } from '../../functions/runner/fargate/helper-deps.js';
import { runPublish } from '../../functions/runner/fargate/publish.js';
import { MASK } from '../../functions/runner/secret-masker.js';
import { MapSecrets, secretRef } from '../support/stages.js';

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
let secrets: MapSecrets;
let buildStdout: string;

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
  const plan: Plan = { version: 1, waves: [[s.name]], stages: [s], skipped: [], failFast: false, cancelSuperseded: false, region: 'eu-west-1', predictedCostUsd: 0, secretsWithheld: false };
  store.objects.set(PLAN_KEY, Buffer.from(JSON.stringify(plan)));
}

function deps(): HelperDeps {
  return {
    store,
    secrets,
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
      return { version: 2, archive: null, artifacts: files.map((f) => ({ path: f, size: readFileSync(join(workspace, f)).length })) };
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
  const user = context.workspaceUid === 0 ? {} : { uid: context.workspaceUid, gid: context.workspaceUid };
  // The container's stdout can be large (the log-cap test prints 70 MiB): spawnSync's default 1 MiB would kill it.
  const run = spawnSync('sh', [join(context.helperDir, 'stage.sh')], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...user });
  buildStdout = run.stdout + run.stderr;
  return run.status ?? -1;
}

function storedLog(): string {
  return store.objects.get(keys.stageLogKey(BUILD, 'test'))!.toString('utf8');
}

const secretsDir = () => join(context.logsDir, 'secrets');

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
  secrets = new MapSecrets({});
  buildStdout = '';
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
      { buildId: BUILD, artifactsFrom: ['build'], workspace: context.workspace, limitBytes: 21 * 1024 ** 3, limitIsDisk: true },
    ]);
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, runner: 'fargate', artifactCount: 1, durationMs: 42_000 });
    expect(store.objects.get(`builds/${BUILD}/stages/test/artifacts/out.txt`)!.toString()).toBe("hello it's me\n");
    expect(store.objects.get(keys.stageLogKey(BUILD, 'test'))!.toString()).toContain("hello it's me");
    expect(JSON.parse(store.objects.get(keys.manifestKey(BUILD, 'test'))!.toString())).toEqual({
      version: 2,
      archive: null,
      artifacts: [{ path: 'out.txt', size: 14 }],
    });
    expect(resultOf()).toEqual(result);
  });

  it('puts what live-log measured of the build container in the result: peak memory and CPU (was 0 and nothing)', async () => {
    // Prepare
    storePlan(stage());
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    clock += 42_000;

    // Act
    const result = await runPublish(context, { ...deps(), containerUsage: async () => ({ cpuSeconds: 21, peakVcpu: 0.9, peakMemoryMiB: 700, samples: 40 }) });

    // Assess: over the 42 s the stage ran (the metadata here gives no container start and finish)
    expect(result.peakMemoryMiB).toBe(700);
    expect(result.cpuUsage).toEqual({ seconds: 21, wallSeconds: 42, averageVcpu: 0.5, peakVcpu: 0.9, source: 'container-stats' });
  });

  it('uploads a capped log (64 MiB: head, marker, tail) when the build container printed 70 MiB', async () => {
    // Prepare: 70 MiB of output, its first and last lines marked
    storePlan(stage({ commands: ['echo FIRST; head -c 73400320 /dev/zero | tr "\\000" "a"; echo; echo LAST'], artifacts: [] }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    const result = await runPublish(context, deps());

    // Assess
    expect(result).toMatchObject({ status: 'succeeded' });
    const log = store.objects.get(keys.stageLogKey(BUILD, 'test'))!;
    expect(log.length).toBeLessThan(64 * 1024 * 1024 + 300);
    expect(log.subarray(0, 200).toString()).toContain('FIRST');
    expect(log.subarray(-20).toString()).toContain('LAST');
    expect(log.toString('latin1')).toMatch(/\[buildfarm: \d+ bytes of output left out here: the stage log is capped at 64 MiB/);
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

  it('records a stage the build container stopped at its timeout as timed_out (StageTimeout), not failed', async () => {
    // Prepare
    storePlan(stage({ commands: ['echo working', 'sleep 30'], timeoutSeconds: 1 }));
    await runFetch(context, deps());

    // Act: the build container's script is PID 1 of its own namespace there; here it gets its own process group
    const child = spawn('sh', [join(context.helperDir, 'stage.sh')], { detached: true, stdio: 'ignore' });
    await once(child, 'close');
    exitCode = 124; // what the metadata endpoint reports for the container (PID 1 survives the group kill and exits 124)
    const result = await runPublish(context, deps());

    // Assess
    expect(result).toMatchObject({ status: 'timed_out', exitCode: 124, errorName: 'StageTimeout' });
    expect(storedLog()).toContain('ran longer than its timeout of 1 s');
  });

  it('treats exit code 124 without the watchdog\'s marker as the command\'s own exit code', async () => {
    // Prepare: a command may exit 124 itself (GNU timeout does)
    storePlan(stage({ commands: ['exit 124'] }));
    await runFetch(context, deps());

    // Act
    exitCode = runBuildContainer();
    const result = await runPublish(context, deps());

    // Assess
    expect(result).toMatchObject({ status: 'failed', exitCode: 124, errorName: 'CommandFailed' });
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
    expect(secrets.asked).toEqual([]);
    expect(existsSync(secretsDir())).toBe(false);
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

describe('Function: runFetch then runPublish, with secrets', () => {
  const TOKEN = 's3cr3t-token-value';

  it('hands the secret to the build user alone, which loads it and deletes it before the commands run', async () => {
    // Prepare: a non-root build, as on Fargate by default (uid 65534 must reach the test's directories)
    chmodSync(dir, 0o755);
    context = { ...context, workspaceUid: 65534 };
    secrets = new MapSecrets({ 'buildfarm/token': TOKEN });
    storePlan(
      stage({
        runAsRoot: false,
        secrets: { TOKEN: secretRef('buildfarm/token') },
        commands: [
          `test ! -e ${secretsDir()} && echo secrets-gone`,
          'test "$(id -u)" = 65534 && echo as-nobody',
          '[ "$TOKEN" = expected-below ] || echo "token is $TOKEN"',
          `[ "$TOKEN" = '${TOKEN}' ] && echo token-ok`,
        ],
      }),
    );

    // Act: fetch, look at what it left, then the build container and publish
    await runFetch(context, deps());
    const dirStat = statSync(secretsDir());
    const fileStat = statSync(join(secretsDir(), 'TOKEN'));
    const hashesMode = statSync(join(context.helperDir, 'secret-hashes.json')).mode & 0o777;
    exitCode = runBuildContainer();
    const afterBuild = existsSync(secretsDir());
    const result = await runPublish(context, deps());

    // Assess
    expect({ uid: dirStat.uid, mode: dirStat.mode & 0o777 }).toEqual({ uid: 65534, mode: 0o700 });
    expect({ uid: fileStat.uid, mode: fileStat.mode & 0o777 }).toEqual({ uid: 65534, mode: 0o400 });
    expect(hashesMode).toBe(0o400);
    expect(readFileSync(join(context.helperDir, 'secret-hashes.json'), 'utf8')).not.toContain(TOKEN);
    expect(afterBuild).toBe(false);
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const log = storedLog();
    expect(log).toContain('secrets-gone');
    expect(log).toContain('as-nobody');
    expect(log).toContain('token-ok');
    expect(log).toContain(`token is ${MASK}`);
    expect(log).not.toContain(TOKEN);
    // The container's stdout goes unmasked to CloudWatch: none of the commands' output may reach it.
    expect(buildStdout).not.toContain('token is');
  });

  it('passes hostile values through unchanged, with no shell evaluation, and masks them all', async () => {
    // Prepare: quotes, newlines, substitutions, backticks, backslashes, a trailing newline, a glob
    const hostile: Record<string, string> = {
      QUOTES: `it's "quoted" '\''`,
      LINES: 'first line\nsecond line\n\n',
      SUBST: '$(touch pwned-subst) ${HOME} $PATH',
      TICKS: '`touch pwned-ticks`; touch pwned-semi',
      SLASHES: 'back\\slash\\n\\\\ and %s %x x',
      GLOB: '* ?[a-z] ~',
    };
    secrets = new MapSecrets(Object.fromEntries(Object.entries(hostile).map(([name, value]) => [`buildfarm/${name}`, value])));
    storePlan(
      stage({
        secrets: Object.fromEntries(Object.keys(hostile).map((name) => [name, secretRef(`buildfarm/${name}`)])),
        commands: [...Object.keys(hostile).map((name) => `printf '%s' "$${name}" > ${name}.out`), 'echo "$SUBST / $TICKS / $LINES"'],
        artifacts: [],
      }),
    );

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    await runPublish(context, deps());

    // Assess
    expect(exitCode).toBe(0);
    for (const [name, value] of Object.entries(hostile)) {
      expect(readFileSync(join(context.workspace, `${name}.out`), 'utf8')).toBe(value);
    }
    for (const marker of ['pwned-subst', 'pwned-ticks', 'pwned-semi']) expect(existsSync(join(context.workspace, marker))).toBe(false);
    const log = storedLog();
    for (const value of Object.values(hostile)) expect(log).not.toContain(value.trim());
    expect(log).not.toContain('touch pwned');
    expect(log).toContain(MASK);
  });

  it('lets a secret override a plain variable of the same name, as on Lambda', async () => {
    // Prepare
    secrets = new MapSecrets({ 'buildfarm/token': TOKEN });
    storePlan(stage({ env: { TOKEN: 'plain' }, secrets: { TOKEN: secretRef('buildfarm/token') }, commands: [`[ "$TOKEN" = '${TOKEN}' ]`] }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();

    // Assess
    expect(exitCode).toBe(0);
  });

  it('fails the stage with SecretUnavailable before the workspace, leaving no secret behind', async () => {
    // Prepare: the first secret reads, the second does not
    secrets = new MapSecrets({ 'buildfarm/first': 'first-value' });
    storePlan(stage({ secrets: { FIRST: secretRef('buildfarm/first'), SECOND: secretRef('buildfarm/missing') } }));

    // Act
    const attempt = runFetch(context, deps());

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'SecretUnavailable' });
    expect(resultOf()).toMatchObject({ status: 'failed', errorName: 'SecretUnavailable' });
    expect(resultOf().reason).toContain('SECOND (secretsmanager:buildfarm/missing)');
    expect(workspaceRequests).toEqual([]);
    expect(existsSync(secretsDir())).toBe(false);
    expect(JSON.stringify([...store.objects.values()].map(String))).not.toContain('first-value');
  });

  it('deletes the secrets itself when the build container never ran', async () => {
    // Prepare
    secrets = new MapSecrets({ 'buildfarm/token': TOKEN });
    storePlan(stage({ secrets: { TOKEN: secretRef('buildfarm/token') } }));
    await runFetch(context, deps());

    // Act: no build container (its image could not be pulled, say)
    const result = await runPublish(context, deps());

    // Assess
    expect(existsSync(secretsDir())).toBe(false);
    expect(result).toMatchObject({ status: 'failed', exitCode: null });
  });

  it('withholds the log when a secret changed during the build (its old value could not be masked)', async () => {
    // Prepare
    secrets = new MapSecrets({ 'buildfarm/token': 'old-value' });
    storePlan(stage({ secrets: { TOKEN: secretRef('buildfarm/token') }, commands: ['echo "using $TOKEN"'], artifacts: [] }));
    await runFetch(context, deps());
    exitCode = runBuildContainer();

    // Act: rotated before publish reads it again
    secrets = new MapSecrets({ 'buildfarm/token': 'new-value' });
    const result = await runPublish(context, deps());

    // Assess
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(storedLog()).not.toContain('old-value');
    expect(storedLog()).toContain('withheld');
    expect(storedLog()).toContain('TOKEN changed during the build');
  });

  it('withholds the log when publish cannot read a secret again', async () => {
    // Prepare
    secrets = new MapSecrets({ 'buildfarm/token': TOKEN });
    storePlan(stage({ secrets: { TOKEN: secretRef('buildfarm/token') }, commands: ['echo "using $TOKEN"'], artifacts: [] }));
    await runFetch(context, deps());
    exitCode = runBuildContainer();

    // Act: deleted meanwhile
    secrets = new MapSecrets({});
    await runPublish(context, deps());

    // Assess
    expect(storedLog()).not.toContain(TOKEN);
    expect(storedLog()).toContain('could not be masked');
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
      homeDir: '/buildfarm-home',
    });
    expect(() => contextFromEnv({})).toThrow(expect.objectContaining({ name: 'HelperMisconfigured' }));
  });
});

describe('Function: runFetch then runPublish, bounded (issue 11)', () => {
  it('caps the uploaded log at the stage’s log-limit', async () => {
    // Prepare: 3 MiB of output with a 1 MiB limit
    storePlan(stage({ commands: ['echo FIRST; head -c 3145728 /dev/zero | tr "\\000" "b"; echo; echo LAST'], artifacts: [], logLimitBytes: 1024 * 1024 }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    await runPublish(context, deps());

    // Assess
    const log = store.objects.get(keys.stageLogKey(BUILD, 'test'))!;
    expect(log.length).toBeLessThan(1024 * 1024 + 300);
    expect(log.subarray(0, 100).toString()).toContain('FIRST');
    expect(log.subarray(-20).toString()).toContain('LAST');
    expect(log.toString('latin1')).toContain('the stage log is capped at 1 MiB');
  });

  it('sends nothing of the commands’ output to the build container’s stdout (the live-log container does, capped)', async () => {
    // Prepare
    storePlan(stage({ commands: ['echo only-in-the-file'], artifacts: [] }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    await runPublish(context, deps());

    // Assess
    expect(buildStdout).not.toContain('only-in-the-file');
    expect(storedLog()).toContain('only-in-the-file');
  });

  it('does not follow a link the build left in the log’s place (it would upload a helper’s file)', async () => {
    // Prepare: the build replaces its log with a link to something only the helpers should read
    writeFileSync(join(context.helperDir, 'private.txt'), 'HELPER-ONLY');
    storePlan(stage({ commands: [`rm -f ${join(context.logsDir, 'log.txt')}; ln -s ${join(context.helperDir, 'private.txt')} ${join(context.logsDir, 'log.txt')}`], artifacts: [] }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    await runPublish(context, deps());

    // Assess
    expect(storedLog()).not.toContain('HELPER-ONLY');
  });
});

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('Function: runFetch then runPublish, on a full task disk (tmpfs, root only)', () => {
  let mountPoint: string;
  beforeEach(() => {
    mountPoint = join(dir, 'task-storage');
    mkdirSync(mountPoint);
    // The task's ephemeral storage, small: every volume of the task lives on it.
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160m', 'tmpfs', mountPoint]);
    context = { ...context, workspace: join(mountPoint, 'workspace'), helperDir: join(mountPoint, 'buildfarm'), logsDir: join(mountPoint, 'logs') };
    for (const d of [context.workspace, context.helperDir, context.logsDir]) mkdirSync(d);
  });
  afterEach(() => {
    spawnSync('umount', ['-l', mountPoint]);
  });

  it('reports OutOfDisk naming the task’s storage when a command filled it, and still uploads the log', async () => {
    // Prepare: a command that writes until the disk is full
    storePlan(stage({ commands: ['echo filling', 'head -c 400000000 /dev/zero > big'], artifacts: [] }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    const result = await runPublish(context, deps());

    // Assess
    expect(exitCode).not.toBe(0);
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfDisk' });
    expect(result.reason).toContain("ephemeral storage (21 GiB");
    expect(storedLog()).toContain('filling');
    expect(existsSync(join(context.helperDir, 'disk-reserve'))).toBe(false);
  });

  it('calls a failing command on a disk with room CommandFailed, not OutOfDisk', async () => {
    // Prepare
    storePlan(stage({ commands: ['head -c 1000000 /dev/zero > some', 'exit 3'], artifacts: [] }));

    // Act
    await runFetch(context, deps());
    exitCode = runBuildContainer();
    const result = await runPublish(context, deps());

    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'CommandFailed', exitCode: 3 });
  });
});
