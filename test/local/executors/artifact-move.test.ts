/**
 * Moving a stage's artifacts out of its workspace for `buildfarm run`'s export: the same files,
 * modes and links as unpacking the archive gives, no new file inodes, and, against a hostile
 * workspace, nothing moved at all unless every manifest entry is exactly as listed.
 */
import { execFileSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactEntry } from '../../../functions/domain/report/types.js';
import { moveArtifacts } from '../../../functions/local/executors/artifact-move.js';
import { listArchiveEntries } from '../../../functions/runner/archive/index.js';

let root: string;
let workspace: string;
let destination: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'artifact-move-'));
  workspace = join(root, 'workspace');
  destination = join(root, 'export');
  await mkdir(join(workspace, 'node_modules', 'pkg', 'lib'), { recursive: true });
  await mkdir(join(workspace, 'node_modules', '.bin'), { recursive: true });
  await writeFile(join(workspace, 'node_modules', 'pkg', 'index.js'), 'module.exports = 1;\n');
  await writeFile(join(workspace, 'node_modules', 'pkg', 'lib', 'a.js'), 'a\n');
  await writeFile(join(workspace, 'node_modules', 'pkg', 'cli.js'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await symlink('../pkg/cli.js', join(workspace, 'node_modules', '.bin', 'pkg'));
  await writeFile(join(workspace, 'package.json'), '{}\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The manifest the packer writes for these paths (runner/archive/archive-entries.ts). */
async function manifestOf(paths: string[]): Promise<ArtifactEntry[]> {
  const entries = await listArchiveEntries(workspace, paths);
  return entries
    .filter((entry) => entry.type !== 'directory')
    .map((entry) => (entry.type === 'symlink' ? { path: entry.path, size: 0, mode: entry.mode, type: 'symlink' as const, target: entry.target } : { path: entry.path, size: entry.size, mode: entry.mode, type: 'file' as const }));
}

async function expectNothingMoved(outcome: Awaited<ReturnType<typeof moveArtifacts>>, reason: RegExp) {
  expect(outcome.moved).toBe(false);
  if (!outcome.moved) expect(outcome.reason).toMatch(reason);
  await expect(lstat(destination)).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await readFile(join(workspace, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
}

describe('Function: moveArtifacts', () => {
  it('moves the listed files and links with their inodes, modes set as unpacking sets them, folders new', async () => {
    // Prepare
    const manifest = await manifestOf(['node_modules']);
    const inode = (await lstat(join(workspace, 'node_modules', 'pkg', 'index.js'))).ino;
    await chmod(join(workspace, 'node_modules', 'pkg'), 0o700);
    // Act
    const outcome = await moveArtifacts(workspace, manifest, destination);
    // Assess
    expect(outcome).toEqual({ moved: true, entries: 4 });
    const moved = join(destination, 'node_modules', 'pkg', 'index.js');
    expect((await lstat(moved)).ino).toBe(inode);
    expect((await lstat(moved)).mode & 0o777).toBe(0o644 & ~process.umask());
    expect((await lstat(join(destination, 'node_modules', 'pkg', 'cli.js'))).mode & 0o777).toBe(0o755 & ~process.umask());
    expect(await readlink(join(destination, 'node_modules', '.bin', 'pkg'))).toBe('../pkg/cli.js');
    expect(execFileSync(join(destination, 'node_modules', '.bin', 'pkg'), { encoding: 'utf8' })).toBe('hi\n');
    // A folder that moved whole gets a new folder's mode, as unpacking would make it.
    expect((await lstat(join(destination, 'node_modules', 'pkg'))).mode & 0o7777).toBe(0o777 & ~process.umask());
    await expect(lstat(join(workspace, 'node_modules', 'pkg'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(workspace, 'package.json'), 'utf8')).toBe('{}\n');
  });

  it('leaves what the manifest does not list behind, moving only the listed entries of that folder', async () => {
    // Prepare: listed before the stray file appeared (the packer skips FIFOs and empty folders the same way)
    const manifest = await manifestOf(['node_modules']);
    await writeFile(join(workspace, 'node_modules', 'pkg', 'stray.txt'), 'not listed\n');
    await mkdir(join(workspace, 'node_modules', 'pkg', 'lib', 'empty'));
    // Act
    const outcome = await moveArtifacts(workspace, manifest, destination);
    // Assess
    expect(outcome.moved).toBe(true);
    await expect(lstat(join(destination, 'node_modules', 'pkg', 'stray.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(join(destination, 'node_modules', 'pkg', 'lib', 'empty'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(destination, 'node_modules', 'pkg', 'lib', 'a.js'), 'utf8')).toBe('a\n');
    expect(await readFile(join(workspace, 'node_modules', 'pkg', 'stray.txt'), 'utf8')).toBe('not listed\n');
  });

  it('moves nothing when a FIFO was planted where a file was listed', async () => {
    const manifest = await manifestOf(['node_modules']);
    await rm(join(workspace, 'node_modules', 'pkg', 'lib', 'a.js'));
    execFileSync('mkfifo', [join(workspace, 'node_modules', 'pkg', 'lib', 'a.js')]);
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /a\.js" was listed as a file and is not a regular file/);
  });

  it('moves nothing when a link was planted where a file was listed', async () => {
    const manifest = await manifestOf(['node_modules']);
    await rm(join(workspace, 'node_modules', 'pkg', 'lib', 'a.js'));
    await symlink('/etc/passwd', join(workspace, 'node_modules', 'pkg', 'lib', 'a.js'));
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /is not a regular file/);
  });

  it('moves nothing when a listed folder was swapped for a link (to outside the workspace)', async () => {
    const manifest = await manifestOf(['node_modules']);
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'a.js'), 'a\n');
    await rm(join(workspace, 'node_modules', 'pkg', 'lib'), { recursive: true });
    await symlink(elsewhere, join(workspace, 'node_modules', 'pkg', 'lib'));
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /"node_modules\/pkg\/lib" is not a folder/);
    expect(await readFile(join(elsewhere, 'a.js'), 'utf8')).toBe('a\n');
  });

  it('moves nothing when a listed file has a second hard link', async () => {
    const manifest = await manifestOf(['node_modules']);
    await link(join(workspace, 'node_modules', 'pkg', 'lib', 'a.js'), join(root, 'kept-by-the-stage'));
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /a\.js" has 2 hard links/);
  });

  it('moves nothing when a file grew or shrank after it was packed', async () => {
    const manifest = await manifestOf(['node_modules']);
    await writeFile(join(workspace, 'node_modules', 'pkg', 'lib', 'a.js'), 'longer than it was\n');
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /has 19 bytes, listed 2/);
  });

  it('moves nothing when a file carries a set-id bit or another mode than listed', async () => {
    const manifest = await manifestOf(['node_modules']);
    await chmod(join(workspace, 'node_modules', 'pkg', 'cli.js'), 0o4755);
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /cli\.js" has mode 4755, listed 755/);
  });

  it('moves nothing when a link points elsewhere than listed', async () => {
    const manifest = await manifestOf(['node_modules']);
    await rm(join(workspace, 'node_modules', '.bin', 'pkg'));
    await symlink('../../../../etc/passwd', join(workspace, 'node_modules', '.bin', 'pkg'));
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /points to "..\/..\/..\/..\/etc\/passwd", listed "..\/pkg\/cli.js"/);
  });

  it('moves nothing when a listed link resolves outside the workspace through another link', async () => {
    // Prepare: `up -> .` and `node_modules/out -> ../up/..` each look inside, together they leave
    await symlink('.', join(workspace, 'up'));
    await symlink('../up/..', join(workspace, 'node_modules', 'out'));
    const manifest: ArtifactEntry[] = [
      ...(await manifestOf(['node_modules/pkg'])),
      // The text as listed (a forged manifest entry: the packer would have refused it)
      { path: 'node_modules/out', size: 0, mode: 0o777, type: 'symlink', target: '../up/..' },
    ];
    await expectNothingMoved(await moveArtifacts(workspace, manifest, destination), /node_modules\/out" resolves outside the workspace/);
  });

  it('moves nothing when a listed entry is missing, or the manifest names a path outside the workspace', async () => {
    const manifest = await manifestOf(['node_modules']);
    await expectNothingMoved(await moveArtifacts(workspace, [...manifest, { path: 'node_modules/gone.js', size: 1, mode: 0o644, type: 'file' }], destination), /gone\.js" is missing/);
    await expectNothingMoved(await moveArtifacts(workspace, [...manifest, { path: '../outside', size: 1, mode: 0o644, type: 'file' }], destination), /unsafe path "..\/outside"/);
  });

  it('moves nothing across file systems (the destination on /dev/shm), leaving the workspace whole', async () => {
    const manifest = await manifestOf(['node_modules']);
    const shm = await mkdtemp('/dev/shm/artifact-move-').catch(() => undefined);
    if (shm === undefined) return;
    try {
      const outcome = await moveArtifacts(workspace, manifest, join(shm, 'export'));
      expect(outcome.moved).toBe(false);
      if (!outcome.moved) expect(outcome.reason).toMatch(/EXDEV/);
      await expect(lstat(join(shm, 'export'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readFile(join(workspace, 'node_modules', 'pkg', 'index.js'), 'utf8')).toBe('module.exports = 1;\n');
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});
