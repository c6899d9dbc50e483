import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readlink, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotTooLarge, UnsafeArchive } from '../../functions/runner/errors.js';
import { extractSnapshot } from '../../functions/runner/extract-snapshot.js';
import { makeGitRepo } from '../support/git-repo.js';
import { file, makeTarGz } from '../support/tarballs.js';

const MiB = 1024 * 1024;

describe('Function: extractSnapshot', () => {
  let base: string;
  let workspace: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'extract-'));
    workspace = join(base, 'ws');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('unpacks a real git archive, stripping its top-level folder and keeping executable bits', async () => {
    // Prepare
    const repo = await makeGitRepo({ 'README.md': 'hi\n', 'src/a.txt': 'a\n', 'run.sh': '#!/bin/sh\necho x\n' });
    const tarball = execFileSync('git', ['archive', '--format=tar.gz', `--prefix=repo-${repo.sha}/`, repo.sha], {
      cwd: repo.path,
    });
    // Act
    const summary = await extractSnapshot(Readable.from([tarball]), workspace, { stripTopLevel: true, maxBytes: MiB });
    // Assess
    expect(await readFile(join(workspace, 'README.md'), 'utf8')).toBe('hi\n');
    expect(await readFile(join(workspace, 'src/a.txt'), 'utf8')).toBe('a\n');
    expect((await stat(join(workspace, 'run.sh'))).mode & 0o111).not.toBe(0);
    expect(summary.files).toBe(3);
    await rm(repo.path, { recursive: true, force: true });
  });

  it('keeps symbolic links that stay inside the workspace', async () => {
    // Prepare
    const tarball = await makeTarGz([
      file('top/docs/guide.md', 'guide'),
      { header: { name: 'top/GUIDE.md', type: 'symlink', linkname: 'docs/guide.md' } },
      { header: { name: 'top/docs/self', type: 'symlink', linkname: '../docs' } },
    ]);
    // Act
    await extractSnapshot(Readable.from([tarball]), workspace, { stripTopLevel: true, maxBytes: MiB });
    // Assess
    expect(await readlink(join(workspace, 'GUIDE.md'))).toBe('docs/guide.md');
    expect(await readFile(join(workspace, 'GUIDE.md'), 'utf8')).toBe('guide');
    expect((await lstat(join(workspace, 'docs/self'))).isSymbolicLink()).toBe(true);
  });

  it.each([
    ['a path with ..', [file('top/../../escaped.txt', 'x')], 'escaped.txt'],
    ['an absolute path', [file('/tmp/absolute-escape.txt', 'x')], 'absolute-escape.txt'],
    [
      'a symbolic link to /etc',
      [{ header: { name: 'top/etc', type: 'symlink' as const, linkname: '/etc' } }],
      'etc',
    ],
    [
      'a relative symbolic link out',
      [{ header: { name: 'top/up', type: 'symlink' as const, linkname: '../../..' } }],
      'up',
    ],
    [
      'a hard link to a file outside',
      [{ header: { name: 'top/passwd', type: 'link' as const, linkname: '../../../etc/passwd' } }],
      'passwd',
    ],
  ])('rejects %s with UnsafeArchive naming the entry', async (_label, entries, leftover) => {
    // Prepare
    const tarball = await makeTarGz(entries);
    // Act
    const extracting = extractSnapshot(Readable.from([tarball]), workspace, { stripTopLevel: true, maxBytes: MiB });
    // Assess
    const error = await extracting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeArchive);
    expect((error as UnsafeArchive).name).toBe('UnsafeArchive');
    expect((error as UnsafeArchive).entry).toBe(entries[0].header.name);
    expect(existsSync(join(workspace, leftover))).toBe(false);
    expect(existsSync(join(base, leftover))).toBe(false);
  });

  it('defuses a chain of links that would escape once resolved by writing each link lexically resolved', async () => {
    // Prepare: `here -> .` is inside; `out -> here/..` looks inside lexically but, followed, lands on the parent
    const tarball = await makeTarGz([
      { header: { name: 'top/here', type: 'symlink', linkname: '.' } },
      { header: { name: 'top/out', type: 'symlink', linkname: 'here/..' } },
    ]);
    // Act
    await extractSnapshot(Readable.from([tarball]), workspace, { stripTopLevel: true, maxBytes: MiB });
    // Assess: the link points at the workspace itself, never at its parent
    expect(await readlink(join(workspace, 'out'))).toBe('.');
    expect(await realpath(join(workspace, 'out'))).toBe(await realpath(workspace));
  });

  it('skips device and fifo entries', async () => {
    // Prepare
    const tarball = await makeTarGz([
      { header: { name: 'top/fifo', type: 'fifo' } },
      { header: { name: 'top/null', type: 'character-device', devmajor: 1, devminor: 3 } },
      file('top/ok.txt', 'ok'),
    ]);
    // Act
    await extractSnapshot(Readable.from([tarball]), workspace, { stripTopLevel: true, maxBytes: MiB });
    // Assess
    expect(existsSync(join(workspace, 'fifo'))).toBe(false);
    expect(existsSync(join(workspace, 'null'))).toBe(false);
    expect(await readFile(join(workspace, 'ok.txt'), 'utf8')).toBe('ok');
  });

  it('stops a decompression bomb with SnapshotTooLarge', async () => {
    // Prepare: 64 MiB of zeros gzip to about 64 KiB; the limit is 8 MiB
    const zeros = Buffer.alloc(64 * MiB);
    const tarball = await makeTarGz([{ header: { name: 'top/bomb', type: 'file', size: zeros.length }, content: zeros }]);
    expect(tarball.length).toBeLessThan(MiB);
    // Act
    const error = await extractSnapshot(Readable.from([tarball]), workspace, {
      stripTopLevel: true,
      maxBytes: 8 * MiB,
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(SnapshotTooLarge);
    expect((error as Error).name).toBe('SnapshotTooLarge');
  });

  it('stops an archive of too many entries with SnapshotTooLarge', async () => {
    // Prepare
    const tarball = await makeTarGz(Array.from({ length: 20 }, (_, i) => file(`top/f${i}`, '')));
    // Act
    const error = await extractSnapshot(Readable.from([tarball]), workspace, {
      stripTopLevel: true,
      maxBytes: MiB,
      maxEntries: 10,
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(SnapshotTooLarge);
  });

  it('stops endless data after the archive with SnapshotTooLarge', async () => {
    // Prepare: a gzip stream of zeros only (tar sees end-of-archive blocks forever)
    const gzip = createGzip();
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i += 1) yield Buffer.alloc(MiB);
      })(),
    ).pipe(gzip);
    // Act
    const error = await extractSnapshot(source, workspace, { stripTopLevel: true, maxBytes: 4 * MiB }).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toBeInstanceOf(SnapshotTooLarge);
  });
});
