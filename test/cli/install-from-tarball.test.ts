/**
 * The documented install for your own repository: `npm pack` in a checkout, then
 * `npm install --save-dev <tarball>` there, then `npx --no buildfarm ...`. Tried from a fresh
 * directory. This machine has no registry access and npm's cache lacks the farm's dependencies,
 * so `npm install --offline` of the tarball fails (ENOTCACHED) here; the test does by hand what
 * that install does: unpack the tarball as node_modules/buildfarm, give it the dependencies (the
 * checkout's node_modules stand in for the ones npm would fetch) and link its bin into
 * node_modules/.bin. What it proves: the tarball holds everything the CLI needs, its bundle is
 * fresh and runs, and npx finds the installed bin without asking the registry for a `buildfarm`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
let scratch: string;
let consumer: string;

describe('Installing buildfarm from a packed tarball into another repository', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'bf-pack-'));
    // Prepare: the tarball, then a fresh repository. --ignore-scripts: prepack would rebuild dist/cli
    // under other tests' feet; the bundle test/support/build-cli.ts built for this run goes in instead.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', scratch, '--silent'], { cwd: ROOT, stdio: 'pipe', timeout: 180_000 });
    const [tarball] = (await readdir(scratch)).filter((name) => name.endsWith('.tgz'));
    consumer = join(scratch, 'my-repo');
    const installed = join(consumer, 'node_modules', 'buildfarm');
    await mkdir(installed, { recursive: true });
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'my-repo', private: true, devDependencies: { buildfarm: `file:../${tarball}` } }));
    await writeFile(join(consumer, '.buildfarm.yml'), 'version: 1\nstages:\n  test: { commands: ["echo ok"] }\n');
    // What npm install does with it: unpack the package, its dependencies beside it, its bin linked.
    execFileSync('tar', ['-xzf', join(scratch, tarball!), '-C', installed, '--strip-components=1']);
    await symlink(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
    await mkdir(join(consumer, 'node_modules', '.bin'));
    await symlink('../buildfarm/bin/buildfarm.mjs', join(consumer, 'node_modules', '.bin', 'buildfarm'));
  }, 240_000);

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('packs the CLI bundle, the sources and the state machine, and no tests', () => {
    const listing = execFileSync('find', ['.', '-path', './node_modules', '-prune', '-o', '-type', 'f', '-print'], { cwd: join(consumer, 'node_modules', 'buildfarm'), encoding: 'utf8' });
    expect(listing).toContain('./dist/cli/main.mjs');
    expect(listing).toContain('./statemachines/build.asl.json');
    expect(listing).toContain('./functions/local/dashboard/app.js');
    expect(listing).not.toContain('./test/');
  });

  it('runs `npx --no buildfarm validate` from the installed bin, on its bundle, without the registry', () => {
    // Act: BUILDFARM_CLI=bundle refuses a missing or stale bundle; --no refuses to install anything.
    const run = spawnSync('npx', ['--no', 'buildfarm', 'validate'], {
      cwd: consumer,
      encoding: 'utf8',
      env: { ...process.env, BUILDFARM_CLI: 'bundle', npm_config_offline: 'true' },
      timeout: 120_000,
    });
    // Assess
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('.buildfarm.yml is valid: 1 stage in 1 wave\n');
    expect(run.status).toBe(0);
  });
});
