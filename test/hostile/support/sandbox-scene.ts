/**
 * The scene of the sandbox-escape suites (issue 10): `buildfarm serve` as a
 * user starts it, in a process of its own, with canaries in its environment
 * (from the start, so /proc/<pid>/environ holds them), in its secrets file,
 * in its user's ~/.aws and in another build's S3 object; and the helpers that
 * deliver signed webhooks to it and scan /proc for survivors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { EMBEDDED_BUCKET } from '../../../functions/adapters/local/embedded-s3.js';
import { s3rverClient } from '../../../functions/adapters/local/s3rver-client.js';
import { git } from '../../../functions/cli/git.js';
import { signBody } from '../../../functions/domain/webhook/signature.js';
import type { BuildSummary } from '../../../functions/local/build-record.js';
import { githubExample } from '../../support/github-examples.js';
import { startServe, type ServeProcess } from '../../local/support/serve-process.js';
import { killSleeps } from './processes.js';
import type { Daemons } from './sandbox-attacks.js';

export { EMBEDDED_BUCKET };

export const REPOSITORY = 'octo-org/hello-farm';
const run = Date.now().toString(36);
export const CANARY = {
  webhook: `canary-webhook-${run}`,
  aws: `canary-aws-${run}`,
  secretsFile: `canary-secrets-file-${run}`,
  awsFile: `canary-aws-file-${run}`,
  object: `canary-object-${run}`,
  later: `canary-later-${run}`,
};
export const GONE = { timeout: 10_000, interval: 200 };
const FINAL = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped'];
/**
 * A build of the attack: some 20 s on an idle 2-core VM (the fork tree is about 1,500 forks and execs). On a
 * loaded one (load 100: a fork and exec took 37 ms) it takes minutes, hence the long bound.
 */
export const SETUP_MS = 240_000;

/** Live processes (not zombies) whose environment carries `needle`, or whose command line contains `argv`. */
export function survivors(needle: { environ?: string; argv?: string }): number[] {
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

export function killAllLeft(attack: Daemons): void {
  for (const marker of attack.markers) killSleeps(marker);
  for (const pid of survivors({ argv: attack.planted })) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
}

export interface Scene {
  directory: string;
  repo: string;
  data: string;
  home: string;
  loot: string;
  serve: ServeProcess;
  otherKey: string;
}

export async function commit(repo: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(repo, name), content);
  await git(repo, ['add', '--all']);
  await git(repo, ['-c', 'user.name=Mallory', '-c', 'user.email=mallory@example.com', 'commit', '--quiet', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

/**
 * GET and parse, tried three times: fetch reuses keep-alive connections, and a farm busy with a fork tree
 * can close an idle one just as the next request goes out on it (ECONNRESET), which says nothing of the farm.
 */
export async function getJson<T>(url: string): Promise<T> {
  return JSON.parse(await getText(url)) as T;
}

export async function getText(url: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await (await fetch(url)).text();
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Sends a signed delivery to the farm's own webhook and waits for its build to end; resolves with the build's id. */
export async function deliver(scene: Scene, event: string, payload: unknown, deliveryId: string): Promise<string> {
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
    const { child } = scene.serve;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`buildfarm serve ended (exit ${child.exitCode}, signal ${child.signalCode}):\n${scene.serve.output()}`);
    }
    const builds = await getJson<BuildSummary[]>(`${scene.serve.url}/api/builds`).catch(async (error: unknown) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      throw new Error(`the farm stopped answering (${(error as Error).message}; exit ${child.exitCode}, signal ${child.signalCode}):\n${scene.serve.output()}`);
    });
    build = builds.find((b) => b.id.includes(deliveryId.slice(-12)));
    if (build !== undefined && FINAL.includes(build.status)) break;
  }
  expect(build, `no build for delivery ${deliveryId}:\n${scene.serve.output()}`).toBeDefined();
  expect(['succeeded', 'failed'], scene.serve.output()).toContain(build!.status);
  return build!.id;
}

/** A real `pull_request opened` payload from a fork of the mapped repository, at `sha`. */
export function forkPullRequest(sha: string): Record<string, unknown> {
  const payload = githubExample('pull_request', (p) => p.action === 'opened');
  const pr = payload.pull_request as Record<string, any>;
  (payload.repository as Record<string, unknown>).full_name = REPOSITORY;
  pr.base.repo.full_name = REPOSITORY;
  pr.head.repo = { ...pr.head.repo, full_name: 'mallory/hello-farm' };
  pr.head.sha = sha;
  return payload;
}

export function push(sha: string): Record<string, unknown> {
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
export async function startScene(env: NodeJS.ProcessEnv = {}): Promise<Scene> {
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

export function attackEnv(scene: Scene): Record<string, string> {
  return { DATA: scene.data, HOSTHOME: scene.home, S3: scene.serve.s3Endpoint, FARM: scene.serve.url, OTHER_KEY: scene.otherKey, LOOT: scene.loot };
}

export function expectNoCanary(text: string): void {
  for (const [name, canary] of Object.entries(CANARY)) expect(text.includes(canary), `canary ${name} leaked`).toBe(false);
}

export async function log(scene: Scene, buildId: string, stage: string): Promise<string> {
  return getText(`${scene.serve.url}/api/builds/${encodeURIComponent(buildId)}/stages/${stage}/log`);
}

export async function stopScene(scene: Scene | undefined, attack: Daemons): Promise<void> {
  killAllLeft(attack);
  if (scene === undefined) return;
  if (process.env.DEBUG_SANDBOX_TEST) console.log(scene.serve.output());
  await scene.serve.stop('SIGINT');
  await rm(scene.directory, { recursive: true, force: true });
}
