/**
 * git questions asked in one `sh` (git-batch.ts), against real git: each answer is the one that
 * command gave, whatever the others printed, and a missing git is said as such.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitBatch } from '../../functions/cli/git-batch.js';

let repo: string;
beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'git-batch-'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
  git('init', '-q', '-b', 'main');
  await writeFile(join(repo, 'a b.txt'), 'one\n');
  await writeFile(join(repo, "it's.txt"), 'two\n');
  git('add', '-A');
  git('commit', '-q', '-m', "subject with 'quotes' and $HOME");
  await writeFile(join(repo, 'a b.txt'), 'changed\n');
  await writeFile(join(repo, "it's.txt"), 'changed\n');
});
afterAll(async () => rm(repo, { recursive: true, force: true }));

describe('Function: gitBatch', () => {
  it('answers each command with its own output, NUL-separated output and quoted arguments included', async () => {
    // Act
    const [subject, changed, failing, branch] = await gitBatch(repo, [
      ['log', '-1', '--format=%s'],
      ['diff', 'HEAD', '--name-only', '-z'],
      ['rev-parse', '--verify', 'no-such-ref'],
      ['rev-parse', '--abbrev-ref', 'HEAD'],
    ]);
    // Assess
    expect(subject).toEqual({ ok: true, stdout: "subject with 'quotes' and $HOME" });
    expect(changed).toEqual({ ok: true, stdout: "a b.txt\0it's.txt\0" });
    expect(failing).toMatchObject({ ok: false, code: 128, stderr: expect.stringContaining('fatal') });
    expect(branch).toEqual({ ok: true, stdout: 'main' });
  });

  it('says git is missing when sh cannot find it', async () => {
    // Prepare: a PATH with sh and without git.
    const bin = await mkdtemp(join(tmpdir(), 'git-batch-path-'));
    const saved = process.env.PATH;
    try {
      execFileSync('ln', ['-s', execFileSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).trim(), join(bin, 'sh')]);
      process.env.PATH = bin;
      // Act
      const attempt = gitBatch(repo, [['status']]);
      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'GitMissing' });
    } finally {
      process.env.PATH = saved;
      await rm(bin, { recursive: true, force: true });
    }
  });
});
