import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
