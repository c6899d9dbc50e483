/**
 * `buildfarm run`'s plain files of a build: a stage's artifacts in `DATA/builds/ID/stages/STAGE/
 * artifacts/` are the same files, modes and links whether they were moved out of the stage's
 * workspace (its commands in bubblewrap) or unpacked from the stored archive (on the host shell,
 * where a process of the stage may outlive it), on the Lambda and the Fargate executors alike.
 * Which way they came shows in the files' birth time: moved files were made while the stage ran.
 */
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const MAKE = [
  'mkdir -p out/bin out/lib out/empty',
  "printf '#!/bin/sh\\necho tool\\n' > out/lib/tool",
  'chmod 755 out/lib/tool',
  'ln -s ../lib/tool out/bin/tool',
  'echo secret > out/private.txt',
  'chmod 600 out/private.txt',
  'echo left > out/lib/data.txt',
  'chmod 777 out/lib',
];
const PIPELINE = [
  'version: 1',
  'stages:',
  ...['on-lambda', 'on-fargate'].flatMap((name) => [
    `  ${name}:`,
    `    runner: ${name === 'on-lambda' ? 'lambda' : 'fargate'}`,
    '    commands:',
    ...MAKE.map((command) => `      - ${JSON.stringify(command)}`),
    '    artifacts: [out]',
  ]),
].join('\n');

/** Every entry under `root`: type, permission bits, link text or content. */
async function tree(root: string, path = ''): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const name of (await readdir(join(root, path))).sort()) {
    const child = path === '' ? name : `${path}/${name}`;
    const stats = await lstat(join(root, child));
    const mode = (stats.mode & 0o7777).toString(8);
    if (stats.isSymbolicLink()) found[child] = `link ${await readlink(join(root, child))}`;
    else if (stats.isDirectory()) Object.assign(found, { [child]: `folder ${mode}` }, await tree(root, child));
    else found[child] = `file ${mode} ${stats.nlink} ${await readFile(join(root, child), 'utf8')}`;
  }
  return found;
}

async function run(repo: string, sandbox: string | undefined) {
  const data = await mkdtemp(join(tmpdir(), 'bf-export-'));
  dirs.push(data);
  const result = await runCli(['run', repo, '--data-dir', data, '--json'], { env: { BUILDFARM_SANDBOX: sandbox } });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as BuildReport;
  const stages = join(data, 'builds', report.buildId, 'stages');
  const bornDuringStage = async (stage: string) => {
    const finishedAt = Date.parse(report.stages.find((s) => s.name === stage)!.finishedAt!);
    return (await lstat(join(stages, stage, 'artifacts', 'out', 'lib', 'data.txt'))).birthtimeMs <= finishedAt;
  };
  return { data, stages, bornDuringStage };
}

const bubblewrap = probeStageSandbox({ dataDirectory: tmpdir(), setting: process.env.BUILDFARM_SANDBOX, searchPath: process.env.PATH }).kind === 'bubblewrap';

describe('CLI: buildfarm run exports the artifacts', () => {
  it.runIf(bubblewrap)('moves a bubblewrapped stage\'s artifacts and unpacks a host-shell one\'s, with the same files, modes and links', async () => {
    // Prepare
    const repo = await makeGitRepo({ '.buildfarm.yml': PIPELINE });
    dirs.push(repo.path);
    // Act
    const sandboxed = await run(repo.path, undefined);
    const hostShell = await run(repo.path, 'off');
    // Assess: the same plain files either way
    for (const stage of ['on-lambda', 'on-fargate']) {
      const moved = await tree(join(sandboxed.stages, stage, 'artifacts'));
      expect(moved).toEqual(await tree(join(hostShell.stages, stage, 'artifacts')));
      expect(moved).toMatchObject({ 'out/bin/tool': 'link ../lib/tool', 'out/private.txt': 'file 600 1 secret\n' });
      expect(moved['out/lib/tool']).toMatch(/^file 7[0-7][0-7] 1 #!\/bin\/sh/);
      // Not listed (a folder with nothing in it), so neither moved nor unpacked.
      expect(moved['out/empty']).toBeUndefined();
      // Moved only from the sandbox, whose PID namespace ended with the stage.
      expect(await sandboxed.bornDuringStage(stage)).toBe(true);
      expect(await hostShell.bornDuringStage(stage)).toBe(false);
    }
    // Nothing is left behind in the work root.
    for (const data of [sandboxed.data, hostShell.data]) {
      expect(await readdir(join(data, 'work', 'export')).catch(() => [])).toEqual([]);
      // Every stage's work folder is deleted by the `rm` `run` started at the build's end (retired-work-folders.ts).
      await expect.poll(async () => readdir(join(data, 'work', 'retired'))).toEqual([]);
      expect(await readdir(join(data, 'work', 'lambda'))).toEqual([]);
    }
  }, 120_000);
});
