/**
 * A stage's environment does not depend on the shell the farm was started from: a `node` or `tsc`
 * that the farm's PATH holds first (its node_modules/.bin under npx) is not the stage's, and the
 * stage's `node` is a Node 22, as on Lambda's nodejs22.x.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { localStageRuntimeEnv, stageNodeBinary } from '../../functions/local/stage-environment.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('Function: localStageRuntimeEnv', () => {
  it('is a fixed, Lambda-like PATH (a Node 22 first, then the system), C.UTF-8 and UTC', () => {
    const env = localStageRuntimeEnv('/opt/node-22/bin/node');
    expect(env).toEqual({ PATH: '/opt/node-22/bin:/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC' });
  });

  it('picks the node devDependency\'s Node 22 when the farm runs on another major version', () => {
    expect(stageNodeBinary(process.execPath, '24.1.0')).toMatch(/node_modules\/node\/bin\/node$/);
  });
});

describe('CLI: buildfarm run, stage environment', () => {
  it('gives a stage Node 22 and none of the farm\'s PATH, whatever the farm\'s own PATH holds', async () => {
    // Prepare: a PATH like npx's, with a fake node and tsc first
    const fakeBin = await mkdtemp(join(tmpdir(), 'fake-bin-'));
    dirs.push(fakeBin);
    for (const tool of ['node', 'tsc']) {
      await writeFile(join(fakeBin, tool), '#!/bin/sh\necho FAKE\n');
      await chmod(join(fakeBin, tool), 0o755);
    }
    const repo = await makeGitRepo({
      '.buildfarm.yml': ['version: 1', 'stages:', '  env:', '    commands:', '      - \'echo "PATH=$PATH"\'', '      - \'echo "NODE=$(node -p process.versions.node)"\'', '      - \'echo "TSC=$(command -v tsc || echo none)"\'', '      - \'echo "TZ=$TZ LANG=$LANG"\''].join('\n'),
    });
    dirs.push(repo.path);
    const data = await mkdtemp(join(tmpdir(), 'bf-env-'));
    dirs.push(data);
    const saved = process.env.PATH;
    process.env.PATH = `${fakeBin}:${saved}`;
    let run;
    try {
      // Act
      run = await runCli(['run', repo.path, '--json', '--data-dir', data, '--logs'], { env: { BUILDFARM_SANDBOX: process.env.BUILDFARM_SANDBOX } });
    } finally {
      process.env.PATH = saved;
    }
    // Assess
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as BuildReport;
    expect(report.status).toBe('succeeded');
    const log = run.stderr;
    const path = /PATH=(.*)/.exec(log)?.[1] ?? '';
    expect(path).not.toContain(fakeBin);
    expect(path).not.toContain('node_modules/.bin');
    expect(log).toMatch(/NODE=22\./);
    expect(log).toContain('TSC=none');
    expect(log).toContain('TZ=UTC LANG=C.UTF-8');
  }, 120_000);
});
