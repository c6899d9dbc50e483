/**
 * Issue 10, the local half: a fork's pull request is the attacker. It arrives
 * as a signed `pull_request` delivery at `buildfarm serve`'s own server (the
 * real webhook, bus, start-build, state machine and local Lambda and Fargate
 * executors), and its stages try to read the farm's environment (a canary
 * GITHUB_WEBHOOK_SECRET and AWS_SECRET_ACCESS_KEY are in it), every visible
 * /proc/<pid>/environ and cmdline, the secrets file and data directory by
 * walking up, the farm user's ~/.aws, s3rver and the dashboard on loopback;
 * and to leave processes behind in every daemonising pattern, a 512-leaf
 * self-daemonising fork tree, and a planted process that reads a later
 * build's environment. Every attempt must come back empty (the canaries are
 * grepped from the stage logs) and nothing may survive its stage (/proc is
 * scanned from here).
 *
 * The second part forces the sandbox off (a machine without bubblewrap): the
 * farm says so in every stage log, and the daemons are still killed; there,
 * the farm's environment IS readable, which the docs say and this test shows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../functions/cli/git.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { EMBEDDED_BUCKET } from '../../functions/adapters/local/embedded-s3.js';
import { s3rverClient } from '../../functions/adapters/local/s3rver-client.js';
import { signBody } from '../../functions/domain/webhook/signature.js';
import type { BuildSummary } from '../../functions/local/build-record.js';
import type { BuildDetail } from '../../functions/local/build-service.js';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { STAGE_MARKER_VARIABLE } from '../../functions/runner/stage-containment.js';
import { githubExample } from '../support/github-examples.js';
import { startServe, type ServeProcess } from '../local/support/serve-process.js';
import { killSleeps, liveSleeps } from './support/processes.js';
import { attackPipeline, DAEMON_MARKERS, DAEMONS_SCRIPT, laterPipeline, PLANTED, READS_SCRIPT, TREE_LEAVES } from './support/sandbox-attacks.js';

const REPOSITORY = 'octo-org/hello-farm';
const run = Date.now().toString(36);
const CANARY = {
  webhook: `canary-webhook-${run}`,
  aws: `canary-aws-${run}`,
  secretsFile: `canary-secrets-file-${run}`,
  awsFile: `canary-aws-file-${run}`,
  object: `canary-object-${run}`,
  later: `canary-later-${run}`,
};
const GONE = { timeout: 10_000, interval: 200 };
const FINAL = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped'];
/**
 * A build of the attack: about 10 s on an idle machine (the fork tree is some 1,500 forks and execs). On a
 * loaded one (2 cores, load 100: a fork and exec took 37 ms) it takes minutes, hence the long bound.
 */
const SETUP_MS = 240_000;

/** Live processes (not zombies) whose environment carries `needle`, or whose command line contains `argv`. */
function survivors(needle: { environ?: string; argv?: string }): number[] {
  const found: number[] = [];
  for (const name of readdirProc()) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (needle.environ && readFileSync(`/proc/${name}/environ`).includes(needle.environ)) found.push(Number(name));
      else if (needle.argv && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle.argv)) found.push(Number(name));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

function readdirProc(): string[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
}

function killAllLeft(): void {
  for (const marker of DAEMON_MARKERS) killSleeps(marker);
  for (const pid of survivors({ argv: PLANTED })) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
}

interface Scene {
  directory: string;
  repo: string;
  data: string;
  home: string;
  loot: string;
  serve: ServeProcess;
  otherKey: string;
}

async function commit(repo: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(repo, name), content);
  await git(repo, ['add', '--all']);
  await git(repo, ['-c', 'user.name=Mallory', '-c', 'user.email=mallory@example.com', 'commit', '--quiet', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

/** Sends a signed delivery to the farm's own webhook and waits for its build to end; resolves with the build's id. */
async function deliver(scene: Scene, event: string, payload: unknown, deliveryId: string): Promise<string> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${scene.serve.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': deliveryId, 'x-hub-signature-256': signBody(CANARY.webhook, body) },
    body,
  });
  expect(response.status, await response.text()).toBe(202);
  // A plain loop: expect.poll is for tests, and this runs in beforeAll too.
  let build: BuildSummary | undefined;
  for (const started = Date.now(); Date.now() - started < SETUP_MS; await new Promise((resolve) => setTimeout(resolve, 500))) {
    build = (await getJson<BuildSummary[]>(`${scene.serve.url}/api/builds`)).find((b) => b.id.includes(deliveryId.slice(-12)));
    if (build !== undefined && FINAL.includes(build.status)) break;
  }
  expect(build, `no build for delivery ${deliveryId}:\n${scene.serve.output()}`).toBeDefined();
  expect(['succeeded', 'failed'], scene.serve.output()).toContain(build!.status);
  return build!.id;
}

/** A real `pull_request opened` payload from a fork of the mapped repository, at `sha`. */
function forkPullRequest(sha: string): Record<string, unknown> {
  const payload = githubExample('pull_request', (p) => p.action === 'opened');
  const pr = payload.pull_request as Record<string, any>;
  (payload.repository as Record<string, unknown>).full_name = REPOSITORY;
  pr.base.repo.full_name = REPOSITORY;
  pr.head.repo = { ...pr.head.repo, full_name: 'mallory/hello-farm' };
  pr.head.sha = sha;
  return payload;
}

function push(sha: string): Record<string, unknown> {
  const payload = githubExample('push', (p) => (p.ref as string).startsWith('refs/heads/') && p.deleted === false);
  (payload.repository as Record<string, unknown>).full_name = REPOSITORY;
  payload.after = sha;
  if (payload.head_commit) (payload.head_commit as Record<string, unknown>).id = sha;
  return payload;
}

/**
 * `buildfarm serve` as a user starts it, in a process of its own, with the canaries in its environment from
 * the start (so /proc/<pid>/environ holds them), its secrets file, and its user's home (HOME) with ~/.aws.
 */
async function startScene(env: NodeJS.ProcessEnv = {}): Promise<Scene> {
  const directory = await mkdtemp(join(tmpdir(), 'sandbox-escape-'));
  const repo = join(directory, 'hello-farm');
  const data = join(directory, 'farm', '.buildfarm');
  const home = join(directory, 'home');
  await mkdir(repo);
  await mkdir(join(home, '.aws'), { recursive: true });
  await mkdir(data, { recursive: true });
  await writeFile(join(home, '.aws', 'credentials'), `[default]\naws_secret_access_key = ${CANARY.awsFile}\n`);
  await writeFile(join(data, 'secrets.json'), JSON.stringify({ 'ssm:/ci/token': CANARY.secretsFile }), { mode: 0o600 });
  await git(repo, ['init', '--quiet', '--initial-branch=main']);
  const serve = await startServe(['--port', '0', '--data-dir', data, '--repo', `${REPOSITORY}=${repo}`], {
    GITHUB_WEBHOOK_SECRET: CANARY.webhook,
    AWS_SECRET_ACCESS_KEY: CANARY.aws,
    HOME: home,
    ...env,
  });
  // Another build's object, which no stage of this build may read.
  const otherKey = 'builds/someone-else/stages/build/artifacts/secret.txt';
  const s3 = s3rverClient(serve.s3Endpoint);
  await s3.send(new PutObjectCommand({ Bucket: EMBEDDED_BUCKET, Key: otherKey, Body: CANARY.object }));
  s3.destroy();
  return { directory, repo, data, home, loot: join(directory, 'loot.txt'), serve, otherKey };
}

function attackEnv(scene: Scene): Record<string, string> {
  return { DATA: scene.data, HOSTHOME: scene.home, S3: scene.serve.s3Endpoint, FARM: scene.serve.url, OTHER_KEY: scene.otherKey, LOOT: scene.loot };
}

function expectNoCanary(text: string): void {
  for (const [name, canary] of Object.entries(CANARY)) expect(text.includes(canary), `canary ${name} leaked`).toBe(false);
}

async function log(scene: Scene, buildId: string, stage: string): Promise<string> {
  return (await fetch(`${scene.serve.url}/api/builds/${encodeURIComponent(buildId)}/stages/${stage}/log`)).text();
}

async function stopScene(scene: Scene | undefined): Promise<void> {
  killAllLeft();
  if (scene === undefined) return;
  await scene.serve.stop('SIGINT');
  await rm(scene.directory, { recursive: true, force: true });
}

const probed = probeStageSandbox({ dataDirectory: tmpdir() });

describe('Hostile: a fork pull request attacks the local farm through its sandbox', { timeout: 120_000 }, () => {
  let scene: Scene;
  let buildId: string;

  beforeAll(async () => {
    if (probed.kind !== 'bubblewrap') return;
    scene = await startScene();
    const sha = await commit(scene.repo, { '.buildfarm.yml': attackPipeline(attackEnv(scene)), 'reads.sh': READS_SCRIPT, 'daemons.sh': DAEMONS_SCRIPT }, 'Improve the docs');
    buildId = await deliver(scene, 'pull_request', forkPullRequest(sha), 'a1b2c3d4-0000-4000-8000-0000000a0001');
  }, SETUP_MS);

  afterAll(() => stopScene(scene));

  it.runIf(probed.kind === 'bubblewrap')('runs the fork as a fork, in bubblewrap, and says so at start', async () => {
    const record = await getJson<BuildDetail>(`${scene.serve.url}/api/builds/${encodeURIComponent(buildId)}`);
    expect(record.request.fromFork).toBe(true);
    expect(record.stages.map((s) => [s.name, s.status])).toEqual(expect.arrayContaining([['reads-lambda', 'succeeded'], ['reads-fargate', 'succeeded'], ['daemons', 'succeeded']]));
    expect(scene.serve.output()).toContain('sandbox: stage commands run in bubblewrap');
  });

  it.runIf(probed.kind === 'bubblewrap').each(['reads-lambda', 'reads-fargate'])(
    'defends against %s reading environments, command lines, the secrets file, the data directory, ~/.aws and the farm\'s services',
    async (stage) => {
      // Assess: the attack ran to its end...
      const text = await log(scene, buildId, stage);
      expect(text).toContain('READS-DONE');
      expect(Number(/visible-pids=(\d+)/.exec(text)?.[1])).toBeLessThan(10);
      for (const service of ['s3rver', 'dashboard', 'host-loopback']) expect(text).toMatch(new RegExp(`${service} refused`));
      // ...and found nothing: no canary anywhere in what it printed.
      expectNoCanary(text);
      // The same object IS there for anyone on the host's loopback: the stage was kept from it, it was not missing.
      expect(await (await fetch(`${scene.serve.s3Endpoint}/${EMBEDDED_BUCKET}/${scene.otherKey}`)).text()).toBe(CANARY.object);
    },
  );

  it.runIf(probed.kind === 'bubblewrap')('defends against daemons, a 512-leaf fork tree and a planted process: none outlives its command, none reads a later build', async () => {
    // Prepare: the tree stood inside the stage.
    const text = await log(scene, buildId, 'daemons');
    expect(text).toContain('DAEMONS-STARTED');
    expect(Number(/leaves=(\d+)/.exec(text)?.[1])).toBe(TREE_LEAVES);
    const marker = /marker=([0-9a-f]+)/.exec(text)![1]!;
    // Assess: nothing with the stage's marker, sleep arguments or planted name is alive.
    expect(survivors({ environ: `${STAGE_MARKER_VARIABLE}=${marker}` })).toEqual([]);
    for (const argument of DAEMON_MARKERS) expect(liveSleeps(argument), `sleep ${argument}`).toEqual([]);
    expect(survivors({ argv: PLANTED })).toEqual([]);
    // Act: a later, trusted build with a secret and a canary in its environment.
    const later = await commit(scene.repo, { '.buildfarm.yml': laterPipeline(CANARY.later) }, 'Later work');
    const laterId = await deliver(scene, 'push', push(later), 'a1b2c3d4-0000-4000-8000-0000000a0002');
    // Assess: it ran with its secret, and nothing planted saw it.
    expect(await log(scene, laterId, 'later')).toContain('later-done');
    const loot = await readFile(scene.loot, 'utf8').catch(() => '');
    expectNoCanary(loot);
  });
});

describe('Hostile: the same farm on a machine without bubblewrap (BUILDFARM_SANDBOX=off)', { timeout: 120_000 }, () => {
  let scene: Scene;
  let buildId: string;

  beforeAll(async () => {
    scene = await startScene({ BUILDFARM_SANDBOX: 'off' });
    const env = attackEnv(scene);
    const pipeline = `version: 1\nstages:\n  daemons:\n    runner: lambda\n    env:\n${Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`).join('\n')}\n    commands:\n      - sh daemons.sh\n      - tr '\\0' '\\n' < /proc/$PPID/environ | grep -a AWS_SECRET_ACCESS_KEY || true\n`;
    const sha = await commit(scene.repo, { '.buildfarm.yml': pipeline, 'daemons.sh': DAEMONS_SCRIPT }, 'Daemons');
    buildId = await deliver(scene, 'push', push(sha), 'a1b2c3d4-0000-4000-8000-0000000b0001');
  }, SETUP_MS);

  afterAll(() => stopScene(scene));

  it('says loudly, at start and in the stage log, that there is no sandbox; and there the farm\'s environment is readable, as the docs warn', async () => {
    expect(scene.serve.output()).toContain('WARNING: stage commands run WITHOUT a sandbox: BUILDFARM_SANDBOX=off');
    const text = await log(scene, buildId, 'daemons');
    expect(text).toContain('== WARNING: no sandbox for this stage\'s commands: BUILDFARM_SANDBOX=off');
    // The weakness the sandbox closes, shown: without it, the parent's environment holds the farm's canary.
    expect(text).toContain(CANARY.aws);
  });

  it('still kills every daemon (setsid, nohup, double fork, env -i, the 512-leaf tree, the planted process) and reports it in the log', async () => {
    // Prepare
    const text = await log(scene, buildId, 'daemons');
    expect(text).toContain('DAEMONS-STARTED');
    expect(Number(/leaves=(\d+)/.exec(text)?.[1])).toBe(TREE_LEAVES);
    const marker = /marker=([0-9a-f]+)/.exec(text)![1]!;
    // Assess
    expect(text).toMatch(/== killed \d+ processes the command left running outside its process tree/);
    expect(survivors({ environ: `${STAGE_MARKER_VARIABLE}=${marker}` })).toEqual([]);
    for (const argument of DAEMON_MARKERS) await expect.poll(() => liveSleeps(argument), GONE).toEqual([]);
    expect(survivors({ argv: PLANTED })).toEqual([]);
    // Act: a later build; the planted process, had it survived, would write its environment to the loot file.
    const later = await commit(scene.repo, { '.buildfarm.yml': laterPipeline(CANARY.later) }, 'Later work');
    await deliver(scene, 'push', push(later), 'a1b2c3d4-0000-4000-8000-0000000b0002');
    expect(await readFile(scene.loot, 'utf8').catch(() => '')).not.toContain(CANARY.later);
  });
});
