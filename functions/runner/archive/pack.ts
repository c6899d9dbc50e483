/**
 * Streams listed entries as one tar (optionally gzip), measuring the bytes that
 * leave: the archive's sha256 and size are known the moment the last byte is read,
 * with nothing held in memory or written to disk on the way.
 */
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import type { ArchiveEntry } from './archive-entries.js';
import { ArchiveDigest, OFF_THREAD_FROM_BYTES } from './archive-digest.js';

const READ_BYTES = 1024 * 1024;

export type ArchiveCompression = 'none' | 'gzip';

export interface PackOptions {
  /** Default 'none' (see docs/performance.md: artifacts are often already compressed, and S3 bytes are free in-region). */
  compression?: ArchiveCompression;
}

export interface PackedArchive {
  sha256: string;
  /** Bytes of the archive as stored (after compression). */
  bytes: number;
  compression: ArchiveCompression;
}

export interface ArchiveStream {
  /** The archive's bytes: hand it to the store. Read it to the end, or destroy it. */
  stream: Readable;
  /** Settles once `stream` has ended (or failed): the digest of exactly what was read. */
  packed: Promise<PackedArchive>;
}

/**
 * Packs `entries` (from listArchiveEntries, same `root`) into a stream. A file that changed
 * size since it was listed fails the stream (tar-stream checks each entry's length).
 */
export function packArchive(root: string, entries: ArchiveEntry[], options: PackOptions = {}): ArchiveStream {
  const compression = options.compression ?? 'none';
  const tar = tarPack();
  const contentBytes = entries.reduce((sum, entry) => sum + entry.size, 0);
  const digest = new ArchiveDigest({ offThread: contentBytes >= OFF_THREAD_FROM_BYTES });
  const output = new PassThrough({ highWaterMark: 1024 * 1024 });
  const stages: NodeJS.ReadWriteStream[] = compression === 'gzip' ? [createGzip({ level: 1 }), digest] : [digest];

  const producing = writeEntries(tar, root, entries).then(
    () => tar.finalize(),
    (error: unknown) => tar.destroy(error as Error),
  );
  const flowing = pipeline([tar as unknown as Readable, ...stages, output]);
  const packed = Promise.all([producing, flowing]).then(async () => ({ ...(await digest.result()), compression }));
  // The caller learns of a failure from the stream (and from `packed` if it awaits it): never unhandled here.
  packed.catch(() => undefined);
  return { stream: output, packed };
}

/**
 * Files up to this size are read with one synchronous call and added as a buffer: for the
 * few-KiB files most of a node_modules is, a read stream's set-up and its trips through
 * libuv's thread pool cost far more than the bytes (the express bench, docs/performance.md).
 */
const SMALL_FILE_BYTES = 64 * 1024;

/**
 * Opening a listed file: O_NOFOLLOW refuses a link in the last component (ELOOP), and
 * O_NONBLOCK keeps a file swapped for a FIFO from blocking the open until a writer comes
 * (open(2): for a regular file O_NONBLOCK changes nothing; the FIFO then reads 0 bytes, a
 * size mismatch, or fails the fstat check of a large file).
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * A small file's bytes, read without following a link (O_NOFOLLOW): a file the stage swapped
 * for a link after it was listed is refused, never read through. Reads one byte past the
 * listed size, so a file that grew is caught as well as one that shrank.
 */
function readSmallFile(path: string, size: number): Buffer {
  const fd = openSync(path, READ_FLAGS);
  try {
    const buffer = Buffer.allocUnsafe(size + 1);
    let read = 0;
    while (read < buffer.length) {
      const count = readSync(fd, buffer, read, buffer.length - read, null);
      if (count === 0) break;
      read += count;
    }
    // The same error tar-stream gives a streamed file whose length changed.
    if (read !== size) throw new Error('Size mismatch');
    return buffer.subarray(0, size);
  } finally {
    closeSync(fd);
  }
}

/**
 * A large file's descriptor, opened as a small file's is (O_NOFOLLOW: a file swapped for a link
 * after it was listed is refused with ELOOP, never read through), and checked with fstat on
 * that descriptor (no gap between the check and the read): a regular file of the listed size.
 * tar-stream still fails the entry if the file changes length while it is read.
 */
function openLargeFile(path: string, size: number): number {
  const fd = openSync(path, READ_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error(`${path} is no longer a regular file`);
    // The same error tar-stream gives a streamed file whose length changed.
    if (stats.size !== size) throw new Error('Size mismatch');
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

async function writeEntries(tar: Pack, root: string, entries: ArchiveEntry[]): Promise<void> {
  for (const entry of entries) {
    const header = headerOf(entry);
    if (entry.type !== 'file' || entry.size <= SMALL_FILE_BYTES) {
      const data = entry.type === 'file' ? readSmallFile(join(root, ...entry.path.split('/')), entry.size) : undefined;
      // With a buffer, tar-stream calls back once the pack took it (its backpressure): one entry in flight.
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error | null) => (error ? reject(error) : resolve());
        if (data !== undefined) tar.entry(header, data, done);
        else tar.entry(header, done);
      });
      continue;
    }
    // Opened before the tar entry starts, so a refused file fails the pack without a half-written entry.
    const fd = openLargeFile(join(root, ...entry.path.split('/')), entry.size);
    const done = new Promise<void>((resolve, reject) => {
      const sink = tar.entry(header, (error) => (error ? reject(error) : resolve()));
      // 1 MiB reads, not the default 64 KiB: a sixteenth of the system calls and stream callbacks for a large file.
      // The stream owns the descriptor (autoClose) and closes it on end or error.
      pipeline(createReadStream('', { fd, highWaterMark: READ_BYTES }), sink).catch(reject);
    });
    await done;
  }
}

type TarHeader = Parameters<Pack['entry']>[0];

function headerOf(entry: ArchiveEntry): TarHeader {
  // Owner and times are left neutral: the extracting side owns what it writes, and identical inputs give identical archives.
  const common = { name: entry.path, mode: entry.mode, uid: 0, gid: 0, mtime: new Date(0) };
  switch (entry.type) {
    case 'file':
      return { ...common, type: 'file', size: entry.size };
    case 'directory':
      return { ...common, type: 'directory' };
    case 'symlink':
      return { ...common, type: 'symlink', linkname: entry.target ?? '' };
  }
}
