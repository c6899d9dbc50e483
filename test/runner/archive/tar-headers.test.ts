/**
 * The tar headers packArchive writes (runner/archive/tar-headers.ts), read back by
 * implementations we did not write: tar-stream's extractor for random entries (fast-check),
 * and GNU tar for a tree with every awkward case (long paths needing a prefix split or a pax
 * record, long link text, non-ASCII names, modes).
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { extract } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveEntry } from '../../../functions/runner/archive/archive-entries.js';
import { listArchiveEntries, packArchive } from '../../../functions/runner/archive/index.js';
import { BLOCK, entryHeaders, padding } from '../../../functions/runner/archive/tar-headers.js';

/** A tar of `entries` with `size` bytes of `x` as each file's content, as packArchive lays it out. */
function archiveOf(entries: ArchiveEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(entryHeaders(entry));
    if (entry.type === 'file') parts.push(Buffer.alloc(entry.size, 'x'), Buffer.alloc(padding(entry.size)));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

async function readWithTarStream(archive: Buffer) {
  const seen: { name: string; type: string; mode: number; size: number; linkname: string | null; content: string }[] = [];
  const extractor = extract();
  Readable.from([archive]).pipe(extractor);
  for await (const entry of extractor) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { name, type, mode, size, linkname } = entry.header;
    seen.push({ name, type: String(type), mode: mode ?? -1, size: size ?? 0, linkname: linkname ?? null, content: Buffer.concat(chunks).toString() });
  }
  return seen;
}

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9._-]{1,12}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  fc.constant('x'.repeat(99)),
).filter((name) => !name.includes('/') && !name.includes('\0') && name !== '.' && name !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 12 }).map((segments) => segments.join('/'));
const entry: fc.Arbitrary<ArchiveEntry> = fc.oneof(
  fc.record({ path, type: fc.constant('file' as const), mode: fc.integer({ min: 0, max: 0o777 }), size: fc.integer({ min: 0, max: 2000 }) }),
  fc.record({ path, type: fc.constant('directory' as const), mode: fc.integer({ min: 0, max: 0o777 }), size: fc.constant(0) }),
  fc.record({ path, type: fc.constant('symlink' as const), mode: fc.constant(0o777), size: fc.constant(0), target: path }),
);

describe('Function: entryHeaders', () => {
  it('writes headers tar-stream reads back as the same path, type, mode, size and link text, for random entries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 8 }), async (entries) => {
        // Act
        const seen = await readWithTarStream(archiveOf(entries));
        // Assess
        expect(seen).toEqual(
          entries.map((e) => ({
            name: e.type === 'directory' ? `${e.path}/` : e.path,
            type: e.type,
            mode: e.mode,
            size: e.type === 'file' ? e.size : 0,
            linkname: e.type === 'symlink' ? e.target : null,
            content: e.type === 'file' ? 'x'.repeat(e.size) : '',
          })),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('puts a size beyond 11 octal digits in a pax record', async () => {
    // Prepare: 9 GiB is more than ustar's size field holds
    const headers = entryHeaders({ path: 'huge.bin', type: 'file', mode: 0o644, size: 9 * 1024 ** 3 });
    // Assess: a pax header first, whose records carry the size
    expect(headers.length).toBe(3 * BLOCK);
    expect(headers.subarray(156, 157).toString()).toBe('x');
    expect(headers.subarray(BLOCK, 2 * BLOCK).toString()).toContain(` size=${9 * 1024 ** 3}\n`);
  });
});

describe('Function: packArchive, read by GNU tar', () => {
  let base: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'tar-headers-'));
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('gives GNU tar the same files, contents, modes and links, with long and non-ASCII paths', async () => {
    // Prepare
    const root = join(base, 'source');
    const source = join(root, 'out');
    const splittable = join('a'.repeat(90), 'b'.repeat(90), 'c'.repeat(60));
    const unsplittable = 'd'.repeat(200);
    const unicode = 'pakket-ü-日本';
    await mkdir(join(source, splittable), { recursive: true });
    await mkdir(join(source, unsplittable), { recursive: true });
    await mkdir(join(source, unicode));
    await writeFile(join(source, splittable, 'file.txt'), 'split\n');
    await writeFile(join(source, unsplittable, 'file.txt'), 'pax\n');
    await writeFile(join(source, unicode, 'ß.js'), 'unicode\n');
    await writeFile(join(source, 'tool'), '#!/bin/sh\n');
    await chmod(join(source, 'tool'), 0o750);
    await symlink(join(unsplittable, 'file.txt'), join(source, 'long-link'));
    await writeFile(join(source, 'empty'), '');
    const entries = await listArchiveEntries(root, ['out']);
    const { stream, packed } = packArchive(root, entries);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    await packed;
    await writeFile(join(base, 'a.tar'), Buffer.concat(chunks));
    const top = join(base, 'target');
    const target = join(top, 'out');
    await mkdir(top);
    // Act
    execFileSync('tar', ['-xf', join(base, 'a.tar'), '-C', top]);
    // Assess
    expect(await readFile(join(target, splittable, 'file.txt'), 'utf8')).toBe('split\n');
    expect(await readFile(join(target, unsplittable, 'file.txt'), 'utf8')).toBe('pax\n');
    expect(await readFile(join(target, unicode, 'ß.js'), 'utf8')).toBe('unicode\n');
    expect((await stat(join(target, 'tool'))).mode & 0o777).toBe(0o750);
    expect(await readlink(join(target, 'long-link'))).toBe(join(unsplittable, 'file.txt'));
    expect(await readFile(join(target, 'empty'), 'utf8')).toBe('');
  });

  it('lays files of sizes around the 64 KiB and 1 MiB edges across its chunks so GNU tar reads each back whole', async () => {
    // Prepare: sizes either side of the small-file limit and of a chunk, in an order that lands headers on chunk edges
    const root = join(base, 'source');
    await mkdir(join(root, 'out'), { recursive: true });
    const sizes = [0, 1, 511, 512, 513, 65535, 65536, 65537, 1048575, 1048576, 1048577, 3 * 1048576 + 7, 1000, 1048576 - 1024, 1048576 - 512, 5];
    const contents = sizes.map((size, index) => Buffer.alloc(size, String.fromCharCode(97 + index)));
    for (const [index, content] of contents.entries()) await writeFile(join(root, 'out', `f${index}`), content);
    const entries = await listArchiveEntries(root, ['out']);
    const { stream, packed } = packArchive(root, entries);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const { bytes } = await packed;
    await writeFile(join(base, 'a.tar'), Buffer.concat(chunks));
    const target = join(base, 'target');
    await mkdir(target);
    // Act
    execFileSync('tar', ['-xf', join(base, 'a.tar'), '-C', target]);
    // Assess
    expect(bytes).toBe(Buffer.concat(chunks).length);
    expect(bytes % BLOCK).toBe(0);
    for (const [index, content] of contents.entries()) expect((await readFile(join(target, 'out', `f${index}`))).equals(content)).toBe(true);
  });
});
