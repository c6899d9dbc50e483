/**
 * The dependency cache through the real stage agent against s3rver (a real S3 protocol
 * server): restore before the commands, save after a success, scoped per branch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { cacheScopeFor, type CacheScope } from '../../../functions/domain/cache/scope.js';
import type { CacheSpec } from '../../../functions/domain/pipeline/types.js';
import type { StageResult } from '../../../functions/domain/report/types.js';
import { runStage } from '../../../functions/runner/agent.js';
import { StageCache } from '../../../functions/runner/cache/stage-cache.js';
import { makeGitRepo, type TempRepo } from '../../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../../support/stages.js';

const REPOSITORY = 'octo/app';
const NPM: CacheSpec = { paths: ['~/.npm'], keyFiles: ['package-lock.json'], prefix: 'npm' };
const MAIN_PUSH = cacheScopeFor({ repository: REPOSITORY, event: 'push', branch: 'main', fromFork: false });

describe('Class: StageCache (through runStage, against s3rver)', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let lockV1: TempRepo;
  let lockV2: TempRepo;
  let workRoot: string;
  let counter = 0;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    lockV1 = await makeGitRepo({ 'package-lock.json': '{"lockfileVersion":3,"v":1}\n' });
    lockV2 = await makeGitRepo({ 'package-lock.json': '{"lockfileVersion":3,"v":2}\n' });
  });
  afterAll(async () => {
    await s3.stop();
    await rm(lockV1.path, { recursive: true, force: true });
    await rm(lockV2.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    workRoot = await mkdtemp(join(tmpdir(), 'cache-'));
  });
  afterEach(async () => {
    await rm(workRoot, { recursive: true, force: true });
  });

  async function build(repo: TempRepo, commands: string[], cache: CacheSpec, scope: CacheScope | undefined): Promise<{ result: StageResult; log: string }> {
    counter += 1;
    const buildId = `cache-build-${counter}`;
    await storeSnapshot(store, buildId, repo);
    const output = new CapturedOutput();
    const root = join(workRoot, buildId);
    const result = await runStage(
      { buildId, stage: plannedStage({ name: 'install', commands, cache }), runner: 'lambda', workRoot: root, deadline: Date.now() + 60_000, ...(scope ? { cacheScope: scope } : {}) },
      { store, secrets: new MapSecrets({}), now: Date.now, output },
    );
    return { result, log: output.text };
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of store.list(prefix)) keys.push(object.key);
    return keys;
  }

  it('a miss saves; the next build of the branch hits, sees the files, and saves nothing; a changed lockfile falls back; another prefix misses', async () => {
    // Act: the first build fills ~/.npm
    const first = await build(lockV1, ['mkdir -p ~/.npm/_cacache && echo first > ~/.npm/_cacache/x && chmod 750 ~/.npm/_cacache/x'], NPM, MAIN_PUSH);
    // Assess
    expect(first.result.status).toBe('succeeded');
    expect(first.result.cache).toMatchObject({ result: 'miss', restoredBytes: 0, saved: { branch: 'main' } });
    expect(first.result.cache!.saved!.bytes).toBeGreaterThan(0);
    expect(first.log).toMatch(/== cache npm-[0-9a-f]{12}: miss; saved .* to main/);
    const stored = await keysUnder('caches/octo/app/main/npm/');
    expect(stored.filter((key) => key.endsWith('.json'))).toHaveLength(1);
    expect(stored.filter((key) => key.endsWith('.home.tar'))).toHaveLength(1);

    // Act: same lockfile, a new build
    const second = await build(lockV1, ['cat ~/.npm/_cacache/x', 'test "$(stat -c %a ~/.npm/_cacache/x)" = 750'], NPM, MAIN_PUSH);
    // Assess: an exact hit, restored before the commands, modes kept, not saved again
    expect(second.result.status).toBe('succeeded');
    expect(second.log).toContain('first');
    expect(second.result.cache).toMatchObject({ key: first.result.cache!.key, result: 'hit', restoredFrom: { key: first.result.cache!.key, branch: 'main' }, notSaved: 'the key was an exact hit' });
    expect(second.result.cache!.restoredBytes).toBe(first.result.cache!.saved!.bytes);
    expect(second.result.cache!.saved).toBeUndefined();

    // Act: the lockfile changed
    const third = await build(lockV2, ['cat ~/.npm/_cacache/x', 'echo second > ~/.npm/_cacache/y'], NPM, MAIN_PUSH);
    // Assess: the newest entry with the prefix is restored, and a new key saved
    expect(third.log).toContain('first');
    expect(third.result.cache).toMatchObject({ result: 'fallback', restoredFrom: { key: first.result.cache!.key, branch: 'main' }, saved: { branch: 'main' } });
    expect(third.result.cache!.key).not.toBe(first.result.cache!.key);
    expect(third.log).toMatch(/fallback from npm-[0-9a-f]{12} \(main\)/);

    // Act: another prefix
    const other = await build(lockV1, ['test ! -e ~/.npm/_cacache/x'], { ...NPM, prefix: 'yarn' }, MAIN_PUSH);
    // Assess
    expect(other.result.status).toBe('succeeded');
    expect(other.result.cache).toMatchObject({ result: 'miss', restoredBytes: 0 });
  });

  it('a pull request reads its base branch\'s cache and writes none; a fork\'s the same', async () => {
    // Prepare: main has an entry
    await build(lockV1, ['mkdir -p ~/.npm && echo main > ~/.npm/m'], { ...NPM, prefix: 'pr' }, MAIN_PUSH);
    const before = await keysUnder('caches/octo/app/');
    for (const fromFork of [false, true]) {
      // Act
      const pr = await build(lockV2, ['cat ~/.npm/m', 'echo pr > ~/.npm/poison'], { ...NPM, prefix: 'pr' }, cacheScopeFor({ repository: REPOSITORY, event: 'pull_request', branch: 'feature', baseBranch: 'main', fromFork }));
      // Assess
      expect(pr.log).toContain('main');
      expect(pr.result.cache).toMatchObject({ result: 'fallback', restoredFrom: { branch: 'main' }, notSaved: 'pull requests and forks never write caches' });
      expect(await keysUnder('caches/octo/app/')).toEqual(before);
    }
  });

  it('keeps workspace paths too, with executable modes and links inside (node_modules/.bin)', async () => {
    const spec: CacheSpec = { paths: ['node_modules'], keyFiles: ['package-lock.json'], prefix: 'modules' };
    await build(lockV1, ['mkdir -p node_modules/.bin node_modules/tool', "printf '#!/bin/sh\\necho tool ran\\n' > node_modules/tool/cli.sh", 'chmod +x node_modules/tool/cli.sh', 'ln -s ../tool/cli.sh node_modules/.bin/tool'], spec, MAIN_PUSH);
    const again = await build(lockV1, ['node_modules/.bin/tool'], spec, MAIN_PUSH);
    expect(again.result.status).toBe('succeeded');
    expect(again.log).toContain('tool ran');
    expect(again.result.cache?.result).toBe('hit');
  });

  it('keeps what globs match, in HOME and the workspace, and restores it at the same paths', async () => {
    const spec: CacheSpec = { paths: ['~/.cache/*/wheels', 'packages/*/node_modules'], keyFiles: ['package-lock.json'], prefix: 'globs' };
    const saved = await build(lockV1, ['mkdir -p ~/.cache/pip/wheels ~/.cache/pip/http packages/a/node_modules packages/b/node_modules', 'echo w > ~/.cache/pip/wheels/w.whl', 'echo h > ~/.cache/pip/http/h', 'echo a > packages/a/node_modules/a.js', 'echo b > packages/b/node_modules/b.js'], spec, MAIN_PUSH);
    expect(saved.result.cache).toMatchObject({ result: 'miss', saved: { branch: 'main' } });
    const again = await build(lockV1, ['cat ~/.cache/pip/wheels/w.whl packages/a/node_modules/a.js packages/b/node_modules/b.js', 'test ! -e ~/.cache/pip/http'], spec, MAIN_PUSH);
    expect(again.result.status).toBe('succeeded');
    expect(again.result.cache?.result).toBe('hit');
    expect(again.log).toContain('w\na\nb\n');
  });

  it('removes what a glob restored when the entry turns out damaged, so the commands start clean', async () => {
    // Prepare: an entry of packages/*/node_modules, then its archive altered in one content byte (its sha256 no longer matches)
    const spec: CacheSpec = { paths: ['packages/*/node_modules'], keyFiles: ['package-lock.json'], prefix: 'damaged' };
    await build(lockV1, ['mkdir -p packages/a/node_modules', 'echo MARKER-CONTENT > packages/a/node_modules/m.js'], spec, MAIN_PUSH);
    const partKey = (await keysUnder('caches/octo/app/main/damaged/')).find((key) => key.endsWith('.workspace.tar'))!;
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.get(partKey))!) chunks.push(chunk as Buffer);
    const archive = Buffer.concat(chunks);
    archive[archive.indexOf('MARKER-CONTENT')] = 'X'.charCodeAt(0);
    await store.put(partKey, archive, 'application/x-tar');

    // Act
    const run = await build(lockV1, ['test ! -e packages/a/node_modules && echo clean'], spec, MAIN_PUSH);

    // Assess
    expect(run.result.status).toBe('succeeded');
    expect(run.log).toMatch(/warning: cache damaged-[0-9a-f]{12} could not be restored, the stage starts without it/);
    expect(run.log).toContain('clean');
    expect(run.result.cache?.result).toBe('miss');
  });

  it('after a damaged restore removes only what the restore wrote: an upstream artifact under a matched path survives', async () => {
    // Prepare: an entry of packages/*/dist holding packages/a/dist/cached.js and packages/b/dist/b.js, then damaged in one content byte
    const { mkdir, readFile, writeFile } = await import('node:fs/promises');
    const { existsSync } = await import('node:fs');
    const spec: CacheSpec = { paths: ['packages/*/dist'], keyFiles: [], prefix: 'upstream' };
    const home = join(workRoot, 'home');
    const saving = join(workRoot, 'saving');
    await mkdir(home, { recursive: true });
    await mkdir(join(saving, 'packages/a/dist'), { recursive: true });
    await mkdir(join(saving, 'packages/b/dist'), { recursive: true });
    await writeFile(join(saving, 'packages/a/dist/cached.js'), 'CACHED-A\n');
    await writeFile(join(saving, 'packages/b/dist/b.js'), 'CACHED-B\n');
    const open = (workspace: string, lines: string[]) =>
      StageCache.open({ buildId: 'upstream', stage: { name: 's', cache: spec }, scope: MAIN_PUSH, roots: { home, workspace }, store, log: { line: (text) => lines.push(text) }, maxRestoreBytes: 1e9 });
    const saver = await open(saving, []);
    expect((await saver!.save(Date.now() + 60_000, Date.now)).saved).toBeDefined();
    const partKey = (await keysUnder('caches/octo/app/main/upstream/')).find((key) => key.endsWith('.workspace.tar'))!;
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.get(partKey))!) chunks.push(chunk as Buffer);
    const archive = Buffer.concat(chunks);
    archive[archive.indexOf('CACHED-B')] = 'X'.charCodeAt(0);
    await store.put(partKey, archive, 'application/x-tar');
    // Prepare: a workspace where an upstream stage's artifact already sits at packages/a/dist
    const workspace = join(workRoot, 'workspace');
    await mkdir(join(workspace, 'packages/a/dist'), { recursive: true });
    await writeFile(join(workspace, 'packages/a/dist/upstream.js'), 'UPSTREAM\n');

    // Act
    const lines: string[] = [];
    const restoring = await open(workspace, lines);

    // Assess: a miss with a warning; the upstream file and its directory stay, all the restore wrote is gone
    expect(restoring!.report.result).toBe('miss');
    expect(lines.join('\n')).toMatch(/warning: cache upstream-[0-9a-f]{12} could not be restored/);
    expect(await readFile(join(workspace, 'packages/a/dist/upstream.js'), 'utf8')).toBe('UPSTREAM\n');
    expect(existsSync(join(workspace, 'packages/a/dist/cached.js'))).toBe(false);
    expect(existsSync(join(workspace, 'packages/b'))).toBe(false);
  });

  it('saves nothing when a glob matches a link that leaves HOME, and says so (the stage still succeeds)', async () => {
    const spec: CacheSpec = { paths: ['~/.cache/*'], keyFiles: [], prefix: 'escape' };
    const run = await build(lockV1, ['mkdir -p ~/.cache/ok && echo ok > ~/.cache/ok/f', 'ln -s /etc ~/.cache/etc'], spec, MAIN_PUSH);
    expect(run.result.status).toBe('succeeded');
    expect(run.result.cache?.saved).toBeUndefined();
    expect(run.log).toMatch(/warning: cache escape-[0-9a-f]{12} was not saved: .*\.cache\/etc" is a link that leaves HOME/);
    expect(await keysUnder('caches/octo/app/main/escape/')).toEqual([]);
  });

  it('a failed stage saves nothing', async () => {
    const failed = await build(lockV1, ['mkdir -p ~/.npm && echo x > ~/.npm/f', 'exit 3'], { ...NPM, prefix: 'failing' }, MAIN_PUSH);
    expect(failed.result.status).toBe('failed');
    expect(failed.result.cache).toMatchObject({ result: 'miss', notSaved: 'the stage did not succeed' });
    expect(await keysUnder('caches/octo/app/main/failing/')).toEqual([]);
  });

  it('without a cache scope (a plan of unknown origin) no cache is used, and the log says so', async () => {
    const run = await build(lockV1, ['true'], { ...NPM, prefix: 'noscope' }, undefined);
    expect(run.result.cache).toBeUndefined();
    expect(run.log).toContain('cache: not used, this build has no cache scope');
  });

  it('refuses to save an entry over the size limit, with a log line, not a failure', async () => {
    // Prepare
    const home = join(workRoot, 'home');
    const workspace = join(workRoot, 'workspace');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(home, '.npm'), { recursive: true });
    await mkdir(workspace, { recursive: true });
    await writeFile(join(home, '.npm', 'big'), Buffer.alloc(64 * 1024));
    const lines: string[] = [];
    const cache = await StageCache.open({ buildId: 'size', stage: { name: 's', cache: { ...NPM, prefix: 'big' } }, scope: MAIN_PUSH, roots: { home, workspace }, store, log: { line: (text) => lines.push(text) }, maxRestoreBytes: 1e9 });
    // Act
    const report = await cache!.save(Date.now() + 60_000, Date.now, { maxEntryBytes: 1024 });
    // Assess
    expect(report.saved).toBeUndefined();
    expect(report.notSaved).toBe('64.0 KiB is over the 1.0 KiB limit per entry');
    expect(lines.at(-1)).toContain('not saved: 64.0 KiB is over the 1.0 KiB limit per entry');
    expect(await keysUnder('caches/octo/app/main/big/')).toEqual([]);
  });
});
