import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { ArchiveDigest, DIGEST_BATCHES } from '../../../functions/runner/archive/archive-digest.js';
import { listArchiveEntries, packArchive, unpackArchive, type ArchiveCompression } from '../../../functions/runner/archive/index.js';
import { ArtifactCorrupt, UnsafeArchive, UnsafeArtifactPath } from '../../../functions/runner/errors.js';
import { file, makeTarGz } from '../../support/tarballs.js';

const MiB = 1024 * 1024;

async function packToBuffer(root: string, paths: string[], compression: ArchiveCompression = 'none') {
  const entries = await listArchiveEntries(root, paths);
  const { stream, packed } = packArchive(root, entries, { compression });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { entries, bytes: Buffer.concat(chunks), packed: await packed };
}

describe('Module: archive', () => {
  let base: string;
  let source: string;
  let target: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'archive-'));
    source = join(base, 'source');
    target = join(base, 'target');
    await mkdir(join(source, 'out/bin'), { recursive: true });
    await writeFile(join(source, 'out/tool'), '#!/bin/sh\necho tool ran\n');
    await chmod(join(source, 'out/tool'), 0o755);
    await symlink('../tool', join(source, 'out/bin/tool'));
    await writeFile(join(source, 'out/private.txt'), 'secret-ish\n', { mode: 0o600 });
    await mkdir(join(source, 'out/empty'));
    await symlink('bin', join(source, 'out/bin-dir'));
    const deep = join(source, 'out', 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'long-name.txt'), 'deep\n');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  for (const compression of ['none', 'gzip'] as const) {
    it(`round-trips modes, links inside, empty directories and long paths (${compression})`, async () => {
      // Prepare
      const { bytes, packed } = await packToBuffer(source, ['out'], compression);
      // Act
      const summary = await unpackArchive(Readable.from([bytes]), target, { ...packed, maxBytes: MiB, name: 'test archive' });
      // Assess
      expect(packed).toMatchObject({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), compression });
      expect(summary.files).toBe(3);
      expect((await stat(join(target, 'out/tool'))).mode & 0o777).toBe(0o755);
      expect((await stat(join(target, 'out/private.txt'))).mode & 0o777).toBe(0o600);
      expect(await readlink(join(target, 'out/bin/tool'))).toBe('../tool');
      expect(execFileSync(join(target, 'out/bin/tool'), { encoding: 'utf8' })).toBe('tool ran\n');
      expect(await readlink(join(target, 'out/bin-dir'))).toBe('bin');
      expect((await stat(join(target, 'out/empty'))).isDirectory()).toBe(true);
      expect(await readFile(join(target, 'out', 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60), 'long-name.txt'), 'utf8')).toBe('deep\n');
    });
  }

  it('writes a tar GNU tar reads as the same files, modes and links', async () => {
    // Prepare
    const { bytes } = await packToBuffer(source, ['out/tool', 'out/bin/tool'], 'gzip');
    await writeFile(join(base, 'a.tar'), gunzipSync(bytes));
    // Act
    const listing = execFileSync('tar', ['-tvf', join(base, 'a.tar')], { encoding: 'utf8' });
    // Assess
    expect(listing).toMatch(/^-rwxr-xr-x .* out\/tool$/m);
    expect(listing).toMatch(/^l.* out\/bin\/tool -> \.\.\/tool$/m);
  });

  it('unpacks into an existing directory, replacing a link planted where a file goes instead of writing through it', async () => {
    // Prepare
    const { bytes, packed } = await packToBuffer(source, ['out/tool']);
    await mkdir(join(target, 'out'), { recursive: true });
    await writeFile(join(target, 'victim.txt'), 'untouched\n');
    await symlink('../victim.txt', join(target, 'out/tool'));
    // Act
    await unpackArchive(Readable.from([bytes]), target, { ...packed, maxBytes: MiB, name: 'a' });
    // Assess
    expect((await lstat(join(target, 'out/tool'))).isFile()).toBe(true);
    expect(await readFile(join(target, 'victim.txt'), 'utf8')).toBe('untouched\n');
  });

  it('replaces a planted link with a large (streamed) file too, never writing through it', async () => {
    // Prepare: over the size written in one call
    await writeFile(join(source, 'out/big.bin'), randomBytes(300 * 1024));
    const { bytes, packed } = await packToBuffer(source, ['out/big.bin']);
    await mkdir(join(target, 'out'), { recursive: true });
    await writeFile(join(target, 'victim.txt'), 'untouched\n');
    await symlink('../victim.txt', join(target, 'out/big.bin'));
    // Act
    await unpackArchive(Readable.from([bytes]), target, { ...packed, maxBytes: MiB, name: 'a' });
    // Assess
    expect((await lstat(join(target, 'out/big.bin'))).isFile()).toBe(true);
    expect((await readFile(join(target, 'out/big.bin'))).equals(await readFile(join(source, 'out/big.bin')))).toBe(true);
    expect(await readFile(join(target, 'victim.txt'), 'utf8')).toBe('untouched\n');
  });

  it('never reads through a file swapped for a link after it was listed, and refuses a file whose size changed', async () => {
    // Prepare: listed as a file, then replaced by a link to a file outside the root
    await writeFile(join(base, 'outside.txt'), 'outside secret\n');
    const entries = await listArchiveEntries(source, ['out/private.txt']);
    await rm(join(source, 'out/private.txt'));
    await symlink(join(base, 'outside.txt'), join(source, 'out/private.txt'));
    // Act
    const swapped = packArchive(source, entries);
    const read = (async () => {
      for await (const _chunk of swapped.stream) void _chunk;
    })();
    // Assess
    await expect(swapped.packed).rejects.toThrow(/ELOOP/);
    await read.catch(() => undefined);

    // Prepare: listed at one size, then grown
    await writeFile(join(source, 'out/tool'), '#!/bin/sh\necho tool ran, now longer\n');
    const grown = packArchive(source, (await listArchiveEntries(source, ['out/tool'])).map((entry) => ({ ...entry, size: entry.size - 5 })));
    const drained = (async () => {
      for await (const _chunk of grown.stream) void _chunk;
    })();
    await expect(grown.packed).rejects.toThrow('Size mismatch');
    await drained.catch(() => undefined);
  });

  it('never reads through a large (streamed) file swapped for a link after it was listed', async () => {
    // Prepare: a file above the small-file threshold (64 KiB), listed, then replaced by a link to an outside file of the same size
    const secret = randomBytes(256 * 1024);
    await writeFile(join(base, 'outside.bin'), secret);
    await writeFile(join(source, 'out/large.bin'), randomBytes(secret.length));
    const entries = await listArchiveEntries(source, ['out/large.bin']);
    await rm(join(source, 'out/large.bin'));
    await symlink(join(base, 'outside.bin'), join(source, 'out/large.bin'));
    // Act
    const swapped = packArchive(source, entries);
    const chunks: Buffer[] = [];
    const read = (async () => {
      for await (const chunk of swapped.stream) chunks.push(chunk as Buffer);
    })();
    // Assess: refused at the open, and not one byte of the outside file left in the archive
    await expect(swapped.packed).rejects.toThrow(/ELOOP/);
    await read.catch(() => undefined);
    expect(Buffer.concat(chunks).includes(secret.subarray(0, 4096))).toBe(false);
  });

  it('refuses a large (streamed) file that grew after it was listed', async () => {
    // Prepare: listed at one size, then grown (the size is checked at the open, with fstat)
    await writeFile(join(source, 'out/grows.bin'), randomBytes(128 * 1024));
    const entries = await listArchiveEntries(source, ['out/grows.bin']);
    await writeFile(join(source, 'out/grows.bin'), randomBytes(200 * 1024));
    // Act
    const grown = packArchive(source, entries);
    const drained = (async () => {
      for await (const _chunk of grown.stream) void _chunk;
    })();
    // Assess
    await expect(grown.packed).rejects.toThrow(/Size mismatch|changed/);
    await drained.catch(() => undefined);
  });

  it('refuses a small or large file swapped for a FIFO after it was listed, without waiting for a writer', async () => {
    // Prepare: both listed as files, then replaced by FIFOs nobody writes to (a blocking open would never return)
    await writeFile(join(source, 'out/large.bin'), randomBytes(128 * 1024));
    for (const path of ['out/private.txt', 'out/large.bin']) {
      const entries = await listArchiveEntries(source, [path]);
      await rm(join(source, path));
      execFileSync('mkfifo', [join(source, path)]);
      // Act
      const swapped = packArchive(source, entries);
      const drained = (async () => {
        for await (const _chunk of swapped.stream) void _chunk;
      })();
      // Assess
      await expect(swapped.packed).rejects.toThrow(/Size mismatch|no longer a regular file/);
      await drained.catch(() => undefined);
    }
  });

  it('takes the root as a parameter (a HOME with ~/.npm) and skips paths that do not exist', async () => {
    // Prepare
    const home = join(base, 'home');
    await mkdir(join(home, '.npm/_cacache'), { recursive: true });
    await writeFile(join(home, '.npm/_cacache/index'), 'x');
    // Act
    const entries = await listArchiveEntries(home, ['.npm', '.cache/missing']);
    // Assess
    expect(entries.map((entry) => `${entry.type} ${entry.path}`)).toEqual(['directory .npm', 'directory .npm/_cacache', 'file .npm/_cacache/index']);
  });

  describe('links that leave the root', () => {
    it.each([
      ['absolute', '/etc/passwd'],
      ['relative, climbing out', '../../outside'],
    ])('refuses a %s link, naming it', async (_kind, linkText) => {
      await symlink(linkText, join(source, 'out/escape'));
      await expect(listArchiveEntries(source, ['out'])).rejects.toThrow(UnsafeArtifactPath);
      await expect(listArchiveEntries(source, ['out'])).rejects.toThrow(/"out\/escape"/);
    });

    it('refuses a link that looks inside but resolves out through another link', async () => {
      // `up -> ..` is lexically the root... `up/..` would climb; realpath catches the chain.
      await mkdir(join(base, 'outside'));
      await symlink(join(base, 'outside'), join(base, 'source-link'));
      await symlink('../../source-link', join(source, 'out/hop'));
      await expect(listArchiveEntries(source, ['out/hop'])).rejects.toThrow(UnsafeArtifactPath);
    });

    it('refuses a named path under a directory link that leaves the root', async () => {
      await mkdir(join(base, 'outside'));
      await writeFile(join(base, 'outside/passwd'), 'x');
      await symlink(join(base, 'outside'), join(source, 'elsewhere'));
      await expect(listArchiveEntries(source, ['elsewhere/passwd'])).rejects.toThrow(/lies under a link/);
    });
  });

  it('hashes off the main thread to the same sha256 and size as inline, across uneven chunks, batch edges and reused batches', async () => {
    // Prepare: more than DIGEST_BATCHES MiB in chunks of uneven sizes, so 1 MiB batches fill mid-chunk and come back from the worker to be refilled
    const data = randomBytes((DIGEST_BATCHES * 2 + 0.5) * MiB);
    const chunks: Buffer[] = [];
    for (let offset = 0, size = 1; offset < data.length; offset += size, size = (size * 7 + 13) % 300_000 + 1) chunks.push(data.subarray(offset, offset + size));
    const digests = [new ArchiveDigest({ offThread: true }), new ArchiveDigest({ offThread: false })];
    // Act
    for (const digest of digests) await pipeline(Readable.from(chunks), digest, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
    // Assess
    const expected = { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
    expect(await digests[0]!.result()).toEqual(expected);
    expect(await digests[1]!.result()).toEqual(expected);
  });

  describe('on the way down', () => {
    it('refuses an archive whose bytes differ from the manifest (ArtifactCorrupt)', async () => {
      const { bytes, packed } = await packToBuffer(source, ['out/tool']);
      const damaged = Buffer.from(bytes);
      damaged[515] = damaged[515]! ^ 0xff; // inside out/tool's content: still a readable tar
      await expect(unpackArchive(Readable.from([damaged]), target, { ...packed, maxBytes: MiB, name: 'builds/b/x.tar' })).rejects.toThrow(ArtifactCorrupt);
    });

    it('refuses a truncated or garbage stream as ArtifactCorrupt, naming the archive', async () => {
      const { bytes, packed } = await packToBuffer(source, ['out'], 'gzip');
      await expect(unpackArchive(Readable.from([bytes.subarray(0, 100)]), target, { ...packed, maxBytes: MiB, name: 'builds/b/x.tar.gz' })).rejects.toThrow(
        /builds\/b\/x\.tar\.gz/,
      );
      await expect(unpackArchive(Readable.from([Buffer.alloc(4096, 7)]), join(base, 't2'), { ...packed, compression: 'none', maxBytes: MiB, name: 'junk' })).rejects.toThrow(
        ArtifactCorrupt,
      );
    });

    it('applies the snapshot rules to a hostile archive even when its digest matches (a link out)', async () => {
      const hostile = gunzipSync(await makeTarGz([file('ok.txt', 'x'), { header: { name: 'evil', type: 'symlink', linkname: '../../etc' } }]));
      const sha256 = createHash('sha256').update(hostile).digest('hex');
      await expect(
        unpackArchive(Readable.from([hostile]), target, { sha256, bytes: hostile.length, compression: 'none', maxBytes: MiB, name: 'h' }),
      ).rejects.toThrow(UnsafeArchive);
    });
  });
});
