/**
 * A git repository whose `npm ci` installs a tiny local package with a `bin` (from a
 * tarball `npm pack` made, so no registry is asked): after `npm ci`, node_modules holds
 * the package with its executable bit and `node_modules/.bin/fake-tool` as a symbolic
 * link, the shape real projects' `npm test` depends on.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TempRepo } from './git-repo.js';

const NPM_ENV = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

export async function makeNpmBinRepo(): Promise<TempRepo> {
  const scratch = await mkdtemp(join(tmpdir(), 'fake-tool-'));
  const path = await mkdtemp(join(tmpdir(), 'repo-npm-'));
  try {
    const pkg = join(scratch, 'fake-tool');
    await mkdir(pkg);
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'fake-tool', version: '1.0.0', bin: { 'fake-tool': 'cli.js' } }));
    await writeFile(join(pkg, 'cli.js'), "#!/usr/bin/env node\nconsole.log('fake-tool ran with ' + process.argv.slice(2).join(' '));\n");
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: pkg, encoding: 'utf8', env: NPM_ENV }).trim();
    await copyFile(join(scratch, tarball), join(path, tarball));
    await writeFile(
      join(path, 'package.json'),
      JSON.stringify({ name: 'uses-fake-tool', version: '1.0.0', private: true, scripts: { test: 'fake-tool --check' }, dependencies: { 'fake-tool': `file:${tarball}` } }, null, 2),
    );
    execFileSync('npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts'], { cwd: path, env: NPM_ENV, stdio: 'ignore' });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: path, encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'npm project');
    return { path, sha: git('rev-parse', 'HEAD') };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
