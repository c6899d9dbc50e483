/**
 * The express bench's project as a throw-away git repository: bench/fixtures/express-like
 * (an express service, eslint, mocha + supertest: about 250 packages pinned by its
 * package-lock.json, from the npm registry), or, for `quick`, a project with the same shape
 * and no dependencies (npm ci, lint, test and pack all run offline), so a test can drive the
 * whole bench without the network.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './child.js';

const exec = promisify(execFile);

export const EXPRESS_FIXTURE = join(ROOT, 'bench', 'fixtures', 'express-like');

/** The commands, in order, as one would type them; the pipeline runs the same ones. */
export const EXPRESS_COMMANDS = {
  install: 'npm ci --prefer-offline --no-audit --no-fund',
  lint: 'npm run lint',
  test: 'npm test',
  pack: 'npm pack',
} as const;

/**
 * What the machine's TLS needs, passed to both sides alike: a host whose outbound HTTPS goes
 * through an intercepting proxy trusts its CA through NODE_EXTRA_CA_CERTS (npm's own `cafile`
 * lives in the global npmrc of the system's npm prefix, which the stage's Node 22 does not
 * read). A stage sees only the environment its pipeline gives it, so the pipeline sets it.
 */
export function trustEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS } : {};
}

/**
 * install -> lint || test -> pack. The npm cache (~/.npm) is kept between builds; the
 * installed node_modules travels to lint, test and pack as install's artifacts (one archive,
 * modes and links kept), so the farm installs once, as a person does.
 */
export function expressPipeline(env: Record<string, string> = {}): string {
  const defaults = Object.keys(env).length > 0 ? `defaults:\n  env:\n${Object.entries(env).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}\n`).join('')}` : '';
  return `version: 1
${defaults}stages:
  install:
    commands: [${EXPRESS_COMMANDS.install}]
    cache:
      paths: [~/.npm]
      key:
        files: [package-lock.json]
        prefix: npm
    artifacts: [node_modules]
  lint:
    needs: [install]
    commands: [${EXPRESS_COMMANDS.lint}]
  test:
    needs: [install]
    commands: [${EXPRESS_COMMANDS.test}]
  pack:
    needs: [lint, test]
    commands: [${EXPRESS_COMMANDS.pack}]
    artifacts: ["*.tgz"]
`;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd });
  return stdout.trim();
}

/** The offline project: no dependencies, node's own checker and test runner. */
async function writeQuickProject(dir: string): Promise<void> {
  const manifest = {
    name: 'express-like-quick',
    version: '1.0.0',
    private: true,
    files: ['src/'],
    scripts: { lint: 'node --check src/sum.js', test: 'node --test' },
  };
  const lock = { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages: { '': { name: manifest.name, version: manifest.version } } };
  await mkdir(join(dir, 'src'));
  await mkdir(join(dir, 'test'));
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  await writeFile(join(dir, 'src', 'sum.js'), `'use strict';\nmodule.exports = (a, b) => a + b;\n`);
  await writeFile(
    join(dir, 'test', 'sum.test.js'),
    `'use strict';\nconst test = require('node:test');\nconst assert = require('node:assert');\nconst sum = require('../src/sum.js');\ntest('adds', () => assert.strictEqual(sum(2, 3), 5));\n`,
  );
}

/** A git repository (branch main, one commit) holding the project and `.buildfarm.yml`. */
export async function expressRepository(options: { quick?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-express-'));
  if (options.quick) await writeQuickProject(dir);
  else await cp(EXPRESS_FIXTURE, dir, { recursive: true });
  await writeFile(join(dir, '.buildfarm.yml'), expressPipeline(trustEnv()));
  await writeFile(join(dir, '.gitignore'), 'node_modules/\n*.tgz\n');
  await git(dir, ['init', '-q', '-b', 'main']);
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', 'express-like project']);
  return dir;
}

/** A fresh checkout of the repository, as a person would start from. */
export async function checkout(repository: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-express-hand-'));
  await git(tmpdir(), ['clone', '-q', repository, dir]);
  return dir;
}
