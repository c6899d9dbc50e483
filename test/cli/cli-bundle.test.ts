/**
 * bin/buildfarm.mjs runs the CLI bundle (dist/cli, scripts/bundle.mjs) only when it is fresh, and
 * the TypeScript sources through tsx otherwise, so an edit can never silently run old code. Tried
 * on a copy of bin/ with a stand-in bundle and a stand-in source that say which one ran.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
let farm: string;

/** A farm layout: bin/, dist/cli/{main.mjs,inputs.json} and the source the bundle was built from. */
async function makeFarm(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'cli-bundle-'));
  await mkdir(join(directory, 'bin'));
  await mkdir(join(directory, 'dist', 'cli'), { recursive: true });
  await mkdir(join(directory, 'functions', 'cli'), { recursive: true });
  // Every file of bin/: buildfarm.mjs imports its neighbours (malloc-tuning.mjs).
  for (const name of await readdir(join(ROOT, 'bin'))) await copyFile(join(ROOT, 'bin', name), join(directory, 'bin', name));
  await symlink(join(ROOT, 'node_modules'), join(directory, 'node_modules'));
  await writeFile(join(directory, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(directory, 'functions', 'cli', 'main.ts'), "export async function main(argv: string[]): Promise<number> { console.log('source', argv.join(' ')); return 0; }\n");
  await writeFile(join(directory, 'dist', 'cli', 'main.mjs'), "export async function main(argv) { console.log('bundle', argv.join(' ')); return 0; }\n");
  await writeFile(join(directory, 'dist', 'cli', 'inputs.json'), JSON.stringify({ builtAt: Date.now(), inputs: ['functions/cli/main.ts'], packages: ['package-lock.json'] }));
  const past = new Date(Date.now() - 60_000);
  await utimes(join(directory, 'functions', 'cli', 'main.ts'), past, past);
  return directory;
}

function runBin(env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, [join(farm, 'bin', 'buildfarm.mjs'), 'validate'], { encoding: 'utf8', env: { ...process.env, BUILDFARM_CLI: '', ...env } });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('bin/buildfarm.mjs: the CLI bundle or the sources', () => {
  beforeAll(async () => {
    farm = await makeFarm();
  });
  afterAll(async () => {
    await rm(farm, { recursive: true, force: true });
  });

  it('runs the bundle when no source of it changed since it was built', () => {
    expect(runBin().stdout).toBe('bundle validate\n');
  });

  it('keeps V8 code caches of what it loads on disk (the compile cache), so the next start compiles less', async () => {
    // Prepare: a cache home of its own, where the cache goes by default
    const cacheHome = await mkdtemp(join(tmpdir(), 'cli-compile-cache-'));
    try {
      // Act
      const result = runBin({ XDG_CACHE_HOME: cacheHome, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined });
      // Assess: the bundle ran and left its code cache behind, in a folder only its user may use
      expect(result.stdout).toBe('bundle validate\n');
      const directory = join(cacheHome, 'buildfarm', 'node-compile-cache');
      expect((await readdir(directory, { recursive: true })).length).toBeGreaterThan(0);
      expect((await stat(directory)).mode & 0o777).toBe(0o700);
    } finally {
      await rm(cacheHome, { recursive: true, force: true });
    }
  });

  it("defends against a planted compile cache: a cache folder others can write is not used (not the shared /tmp's)", async () => {
    // Prepare: the cache folder exists and is world-writable, as one made by someone else in /tmp would be
    const cacheHome = await mkdtemp(join(tmpdir(), 'cli-compile-cache-'));
    const directory = join(cacheHome, 'buildfarm', 'node-compile-cache');
    await mkdir(directory, { recursive: true });
    await chmod(directory, 0o777);
    const temporary = await mkdtemp(join(tmpdir(), 'cli-tmp-'));
    try {
      // Act
      const result = runBin({ XDG_CACHE_HOME: cacheHome, TMPDIR: temporary, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined });
      // Assess: it ran, wrote no cache there, and none in the temporary directory either
      expect(result.stdout).toBe('bundle validate\n');
      expect(await readdir(directory)).toEqual([]);
      expect(await readdir(temporary)).toEqual([]);
    } finally {
      await rm(cacheHome, { recursive: true, force: true });
      await rm(temporary, { recursive: true, force: true });
    }
  });

  it('uses no compile cache behind a planted link to a folder others control, nor under a folder others can write', async () => {
    // Prepare: the cache home's buildfarm folder is a link to the attacker's (world-writable) folder;
    // and a second cache home under a world-writable (not sticky) folder
    const cacheHome = await mkdtemp(join(tmpdir(), 'cli-compile-cache-'));
    const attacker = join(cacheHome, 'attacker');
    await mkdir(attacker);
    await chmod(attacker, 0o777);
    await mkdir(join(cacheHome, 'linked'));
    await symlink(attacker, join(cacheHome, 'linked', 'buildfarm'));
    const shared = join(cacheHome, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o777);
    try {
      // Act
      const linked = runBin({ XDG_CACHE_HOME: join(cacheHome, 'linked'), NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined });
      const under = runBin({ XDG_CACHE_HOME: join(shared, 'cache'), NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined });
      // Assess: both ran, with no error, and no compiled code went where the attacker can reach it
      for (const result of [linked, under]) expect(result).toMatchObject({ status: 0, stdout: 'bundle validate\n', stderr: '' });
      expect(await readdir(join(attacker, 'node-compile-cache')).catch(() => [])).toEqual([]);
      expect(await readdir(join(shared, 'cache', 'buildfarm', 'node-compile-cache')).catch(() => [])).toEqual([]);
    } finally {
      await rm(cacheHome, { recursive: true, force: true });
    }
  });

  it('runs the sources through tsx when BUILDFARM_CLI=source', () => {
    expect(runBin({ BUILDFARM_CLI: 'source' }).stdout).toBe('source validate\n');
  });

  it('runs the sources once package-lock.json (the bundled packages) changed after the build, and the bundle without one', async () => {
    // Prepare
    const lock = join(farm, 'package-lock.json');
    await writeFile(lock, '{}');
    const future = new Date(Date.now() + 60_000);
    await utimes(lock, future, future);
    // Act
    const changed = runBin();
    await rm(lock);
    const installed = runBin();
    // Assess
    expect(changed.stdout).toBe('source validate\n');
    expect(installed.stdout).toBe('bundle validate\n');
  });

  it('runs the sources, not the old bundle, once a source changed after the build', async () => {
    // Prepare
    const future = new Date(Date.now() + 60_000);
    await utimes(join(farm, 'functions', 'cli', 'main.ts'), future, future);
    // Act
    const stale = runBin();
    const required = runBin({ BUILDFARM_CLI: 'bundle' });
    // Assess
    expect(stale.stdout).toBe('source validate\n');
    expect(required.status).toBe(1);
    expect(required.stderr).toContain('BUILDFARM_CLI=bundle, but functions/cli/main.ts changed after dist/cli was built');
  });

  it('runs the sources when there is no bundle (a checkout without a build)', async () => {
    await rm(join(farm, 'dist'), { recursive: true });
    expect(runBin().stdout).toBe('source validate\n');
  });
});

describe('dist/cli: the bundle the test run built (test/support/build-cli.ts)', () => {
  it('is fresh, and answers as the sources do', () => {
    // Act
    const help = execFileSync(process.execPath, [join(ROOT, 'bin', 'buildfarm.mjs'), '--help'], { encoding: 'utf8', env: { ...process.env, BUILDFARM_CLI: 'bundle' } });
    // Assess
    expect(help).toContain('Usage: buildfarm <command>');
  });
});
