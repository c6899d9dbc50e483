import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitArchiveSource } from '../../../functions/adapters/local/git-archive-source.js';
import { SourceUnavailable } from '../../../functions/adapters/source-errors.js';
import { extractSnapshot } from '../../../functions/runner/extract-snapshot.js';
import { makeGitRepo, type TempRepo } from '../../support/git-repo.js';

describe('Class: GitArchiveSource', () => {
  let repo: TempRepo;
  beforeAll(async () => {
    repo = await makeGitRepo({ 'hello.txt': 'hello\n', 'dir/x.txt': 'x\n' });
  });
  afterAll(async () => {
    await rm(repo.path, { recursive: true, force: true });
  });

  describe('Method: snapshot', () => {
    it('streams a .tar.gz of the commit with one top-level folder, as GitHub does', async () => {
      // Prepare
      const source = new GitArchiveSource(repo.path);
      const workspace = await mkdtemp(join(tmpdir(), 'ws-'));
      // Act
      const stream = await source.snapshot({ repository: 'me/project', sha: repo.sha });
      await extractSnapshot(stream, workspace, { stripTopLevel: true, maxBytes: 1024 * 1024 });
      // Assess
      expect(await readFile(join(workspace, 'hello.txt'), 'utf8')).toBe('hello\n');
      expect(await readFile(join(workspace, 'dir/x.txt'), 'utf8')).toBe('x\n');
      await rm(workspace, { recursive: true, force: true });
    });

    it('keeps the whole archive when the caller starts reading only after git has exited', async () => {
      // Prepare: Node discards a child's unread stdout when the child exits, so a late reader must still get it all
      const source = new GitArchiveSource(repo.path);
      const stream = await source.snapshot({ repository: 'me/project', sha: repo.sha });
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Act
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      // Assess
      const tar = gunzipSync(Buffer.concat(chunks));
      expect(tar.toString('latin1')).toContain('hello.txt');
    });

    it('fails clearly for a commit the repository does not have', async () => {
      // Prepare
      const source = new GitArchiveSource(repo.path);
      // Act
      const error = await source.snapshot({ repository: 'me/project', sha: 'f'.repeat(40) }).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(SourceUnavailable);
      expect((error as Error).message).toContain(`commit ${'f'.repeat(40)} is not in`);
    });

    it('archives a full sha while git checks it is a commit: both git processes at once', async () => {
      // Prepare: a git that logs when each command starts and ends, and takes 300 ms to answer
      const dir = await mkdtemp(join(tmpdir(), 'slow-git-'));
      const log = join(dir, 'log');
      const git = join(dir, 'git');
      await writeFile(git, `#!/bin/sh\necho "start $1" >> ${log}\nsleep 0.3\ngit "$@"\nstatus=$?\necho "end $1" >> ${log}\nexit $status\n`);
      await chmod(git, 0o755);
      const source = new GitArchiveSource(repo.path, git);
      // Act
      const stream = await source.snapshot({ repository: 'me/project', sha: repo.sha });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      // Assess: the archive started before the check ended, and is the commit's
      const lines = (await readFile(log, 'utf8')).trim().split('\n');
      expect(lines.indexOf('start archive')).toBeLessThan(lines.indexOf('end rev-parse'));
      expect(gunzipSync(Buffer.concat(chunks)).toString('latin1')).toContain(`project-${repo.sha}/hello.txt`);
      await rm(dir, { recursive: true, force: true });
    });

    it('archives the commit an annotated tag\'s sha names, under the commit\'s name', async () => {
      // Prepare
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'tag', '-a', 'v1', '-m', 'v1', repo.sha], { cwd: repo.path });
      const tagSha = execFileSync('git', ['rev-parse', 'v1'], { cwd: repo.path, encoding: 'utf8' }).trim();
      const source = new GitArchiveSource(repo.path);
      // Act
      const stream = await source.snapshot({ repository: 'me/project', sha: tagSha });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      // Assess
      expect(tagSha).not.toBe(repo.sha);
      expect(gunzipSync(Buffer.concat(chunks)).toString('latin1')).toContain(`project-${repo.sha}/hello.txt`);
    });

    it('fails the stream, never the process, when git archive fails while the commit is checked', async () => {
      // Prepare: a subfolder the commit does not have (git archive fails at once, the commit is fine)
      const source = new GitArchiveSource(repo.path, 'git', 'no-such-folder');
      // Act
      const stream = await source.snapshot({ repository: 'me/project', sha: repo.sha });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const error = await (async () => {
        for await (const chunk of stream) void chunk;
      })().catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(SourceUnavailable);
      expect((error as Error).message).toContain('git archive');
    });

    it('fails clearly when git is missing', async () => {
      // Prepare
      const source = new GitArchiveSource(repo.path, '/nonexistent/bin/git');
      // Act
      const error = await source.snapshot({ repository: 'me/project', sha: repo.sha }).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(SourceUnavailable);
      expect((error as Error).message).toContain('git is not installed');
    });
  });
});
