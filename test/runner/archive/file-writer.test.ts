/**
 * The extraction's file writer (runner/archive/file-writer.ts): the same rules on its worker
 * thread as inline (O_NOFOLLOW, order kept, errors with their code), and an extraction large
 * enough to use the worker keeps every rule of safe-extract.ts.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileWriter, INLINE_OPS } from '../../../functions/runner/archive/file-writer.js';
import { extractTar } from '../../../functions/runner/archive/safe-extract.js';
import { UnsafeArchive } from '../../../functions/runner/errors.js';
import { file, makeTarGz, type TarEntry } from '../../support/tarballs.js';

const MiB = 1024 * 1024;

describe('Class: FileWriter', () => {
  let base: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'file-writer-'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  // inlineOps 0: every operation on the worker; a large number: every operation inline.
  for (const [label, inlineOps] of [['on its worker', 0], ['inline', 1_000_000]] as const) {
    describe(label, () => {
      it('writes directories and files in order, with their modes, a later write to the same path winning, and reports the directories it created', async () => {
        // Prepare
        const created: string[] = [];
        const writer = new FileWriter((path) => created.push(path), { inlineOps });
        // Act
        writer.mkdir(join(base, 'a/b'));
        writer.writeFile(join(base, 'a/b/tool'), 0o755, [Buffer.from('#!/bin/sh\n'), Buffer.from('echo hi\n')]);
        writer.writeFile(join(base, 'a/b/twice'), 0o644, [Buffer.from('first')]);
        writer.writeFile(join(base, 'a/b/twice'), 0o644, [Buffer.from('second')]);
        writer.mkdir(join(base, 'a/b'));
        await writer.finish();
        // Assess
        expect(await readFile(join(base, 'a/b/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
        expect((await stat(join(base, 'a/b/tool'))).mode & 0o777).toBe(0o755);
        expect(await readFile(join(base, 'a/b/twice'), 'utf8')).toBe('second');
        expect(created).toEqual([join(base, 'a')]);
      });

      it('streams a large file in pieces across batches, waiting when too much is in flight', async () => {
        // Prepare: 20 MiB, more than the writer holds in flight (8 MiB)
        const pieces = Array.from({ length: 20 }, () => randomBytes(MiB));
        const writer = new FileWriter(() => undefined, { inlineOps });
        // Act
        writer.beginFile(join(base, 'big.bin'), 0o600);
        for (const piece of pieces) {
          writer.append(piece);
          await writer.ready();
        }
        writer.endFile();
        await writer.finish();
        // Assess
        // Compared as a boolean: a deep equality over 20 MiB takes minutes.
        expect((await readFile(join(base, 'big.bin'))).equals(Buffer.concat(pieces))).toBe(true);
      });

      it('replaces a link planted where a file goes, never writing through it, for a whole and a streamed file', async () => {
        // Prepare
        await writeFile(join(base, 'victim.txt'), 'untouched\n');
        await symlink('victim.txt', join(base, 'small'));
        await symlink('victim.txt', join(base, 'large'));
        const writer = new FileWriter(() => undefined, { inlineOps });
        // Act
        writer.writeFile(join(base, 'small'), 0o644, [Buffer.from('small')]);
        writer.beginFile(join(base, 'large'), 0o644);
        writer.append(Buffer.from('large'));
        writer.endFile();
        await writer.finish();
        // Assess
        expect((await lstat(join(base, 'small'))).isFile()).toBe(true);
        expect((await lstat(join(base, 'large'))).isFile()).toBe(true);
        expect(await readFile(join(base, 'large'), 'utf8')).toBe('large');
        expect(await readFile(join(base, 'victim.txt'), 'utf8')).toBe('untouched\n');
      });

      it('fails with the system error (code and path) and writes nothing queued after it', async () => {
        // Prepare: a file where a directory must go
        await writeFile(join(base, 'plain'), 'x');
        const writer = new FileWriter(() => undefined, { inlineOps });
        // Act
        writer.writeFile(join(base, 'plain/inside'), 0o644, [Buffer.from('no')]);
        writer.writeFile(join(base, 'after'), 0o644, [Buffer.from('never')]);
        const failure = await writer.finish().then(() => undefined, (error: NodeJS.ErrnoException) => error);
        // Assess
        expect(failure).toMatchObject({ code: 'ENOTDIR', path: join(base, 'plain/inside') });
        expect(await readdir(base)).toEqual(['plain']);
      });
    });
  }

  it('abort waits for what was sent, so every directory the worker created is reported', async () => {
    // Prepare
    const created: string[] = [];
    const writer = new FileWriter((path) => created.push(path), { inlineOps: 0 });
    for (let i = 0; i < 300; i += 1) writer.mkdir(join(base, `d${i}`, 'sub'));
    // Act: the first batches went when full (128 operations); the rest were never sent
    await writer.abort();
    // Assess: reported exactly what exists
    const existing = (await readdir(base)).map((name) => join(base, name)).sort();
    expect(created.sort()).toEqual(existing);
    expect(existing.length).toBeGreaterThanOrEqual(256);
  });
});

describe('Function: extractTar, past the inline operations (on the writer\'s worker)', () => {
  let base: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'extract-worker-'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const many = (count: number): TarEntry[] => Array.from({ length: count }, (_, i) => file(`pkg-${i % 40}/lib/file-${i}.js`, `module ${i}\n`, i % 7 === 0 ? 0o755 : 0o644));

  it('writes every file with its mode, replaces a link planted late in the archive, and reports what it created', async () => {
    // Prepare: more entries than run inline, the planted file last
    await mkdir(join(base, 'target/pkg-1'), { recursive: true });
    await writeFile(join(base, 'victim.txt'), 'untouched\n');
    await symlink('../../victim.txt', join(base, 'target/pkg-1/planted'));
    const archive = await makeTarGz([...many(INLINE_OPS * 3), file('pkg-1/planted', 'replaced\n')]);
    const written: string[] = [];
    // Act
    const summary = await extractTar(Readable.from([archive]), join(base, 'target'), { maxBytes: MiB, written });
    // Assess
    expect(summary.files).toBe(INLINE_OPS * 3 + 1);
    expect(await readFile(join(base, 'target/pkg-39/lib', `file-${INLINE_OPS * 3 - 1}.js`), 'utf8')).toBe(`module ${INLINE_OPS * 3 - 1}\n`);
    expect((await stat(join(base, 'target/pkg-0/lib/file-0.js'))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(base, 'target/pkg-1/planted'), 'utf8')).toBe('replaced\n');
    expect(await readFile(join(base, 'victim.txt'), 'utf8')).toBe('untouched\n');
    // pkg-1 was there before: only its lib/ is this extraction's; every other package directory is.
    expect(written).toContain('pkg-1/lib');
    expect(written).toContain('pkg-0');
    expect(written).not.toContain('pkg-1');
  });

  it('refuses a hostile entry after many files, having reported every path it wrote', async () => {
    // Prepare
    const archive = await makeTarGz([...many(INLINE_OPS * 2), file('../escape.txt', 'out\n')]);
    const written: string[] = [];
    // Act
    const failure = await extractTar(Readable.from([archive]), join(base, 'target'), { maxBytes: MiB, written }).catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(UnsafeArchive);
    await expect(stat(join(base, 'escape.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    const top = (await readdir(join(base, 'target'))).sort();
    expect(top).toHaveLength(40);
    // Every package directory on disk was reported (a failed restore removes exactly these).
    for (const name of top) expect(written).toContain(name);
  });
});
