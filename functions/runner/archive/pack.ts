/**
 * Streams listed entries as one tar (optionally gzip), measuring the bytes that
 * leave: the archive's sha256 and size are known the moment the last byte is read,
 * with nothing held in memory or written to disk on the way.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ArchiveEntry } from './archive-entries.js';
import { ArchiveDigest, OFF_THREAD_FROM_BYTES } from './archive-digest.js';
import { BLOCK, entryHeaders, padding } from './tar-headers.js';

/** The archive leaves in chunks of this size (1 MiB: a sixteenth of the callbacks of 64 KiB ones). */
const CHUNK_BYTES = 1024 * 1024;

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
 * size since it was listed fails the stream ("Size mismatch").
 */
export function packArchive(root: string, entries: ArchiveEntry[], options: PackOptions = {}): ArchiveStream {
  const compression = options.compression ?? 'none';
  const contentBytes = entries.reduce((sum, entry) => sum + entry.size, 0);
  const digest = new ArchiveDigest({ offThread: contentBytes >= OFF_THREAD_FROM_BYTES });
  const output = new PassThrough({ highWaterMark: CHUNK_BYTES });
  const stages: NodeJS.ReadWriteStream[] = compression === 'gzip' ? [createGzip({ level: 1 }), digest] : [digest];
  const tar = Readable.from(tarChunks(root, entries), { objectMode: false, highWaterMark: CHUNK_BYTES });
  const flowing = pipeline([tar, ...stages, output]);
  const packed = flowing.then(async () => ({ ...(await digest.result()), compression }));
  // The caller learns of a failure from the stream (and from `packed` if it awaits it): never unhandled here.
  packed.catch(() => undefined);
  return { stream: output, packed };
}

/**
 * The archive's bytes in chunks of CHUNK_BYTES, written in place: headers encoded into the
 * chunk, a small file read straight into it with one synchronous call, a large one read into it
 * asynchronously. No per-entry stream or callback (tar-stream's pack had a Writable per entry
 * and a trip through the event loop for each: most of packing a node_modules, issue 12).
 */
async function* tarChunks(root: string, entries: ArchiveEntry[]): AsyncGenerator<Buffer> {
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  const pending: Buffer[] = [];
  // Hands the filled part on (a chunk is never reused: downstream may still hold it).
  const take = (): Buffer => {
    const full = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    used = 0;
    return full;
  };
  const put = (bytes: Buffer) => {
    let offset = 0;
    while (offset < bytes.length) {
      if (used === CHUNK_BYTES) pending.push(take());
      const copied = bytes.copy(chunk, used, offset);
      used += copied;
      offset += copied;
    }
  };
  const zeros = (count: number) => {
    for (let left = count; left > 0; ) {
      if (used === CHUNK_BYTES) pending.push(take());
      const run = Math.min(left, CHUNK_BYTES - used);
      chunk.fill(0, used, used + run);
      used += run;
      left -= run;
    }
  };
  const room = { takeIfFull: () => (used === CHUNK_BYTES ? take() : undefined), current: () => ({ chunk, used }), advance: (count: number) => (used += count) };
  for (const entry of entries) {
    put(entryHeaders(entry));
    yield* pending.splice(0);
    if (entry.type === 'file') {
      const path = join(root, ...entry.path.split('/'));
      if (entry.size <= SMALL_FILE_BYTES) {
        // Room for the file and one byte more (readSmallFile reads one past the size to catch a file that grew).
        if (CHUNK_BYTES - used < entry.size + 1) yield take();
        used += readSmallFile(path, entry.size, chunk.subarray(used));
      } else {
        yield* readLargeFile(path, entry.size, room);
      }
      zeros(padding(entry.size));
      yield* pending.splice(0);
    }
    if (used >= CHUNK_BYTES - BLOCK * 4) yield take();
  }
  // Two zero blocks end the archive (ustar).
  zeros(BLOCK * 2);
  yield* pending.splice(0);
  if (used > 0) yield take();
}

/**
 * Files up to this size are read with one synchronous call into the chunk: for the few-KiB
 * files most of a node_modules is, a read stream's set-up and its trips through libuv's thread
 * pool cost far more than the bytes (the express bench, docs/performance.md).
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
 * Reads a small file into `into` without following a link (O_NOFOLLOW): a file the stage swapped
 * for a link after it was listed is refused, never read through. Reads one byte past the listed
 * size, so a file that grew is caught as well as one that shrank. Returns the size.
 */
function readSmallFile(path: string, size: number, into: Buffer): number {
  const fd = openSync(path, READ_FLAGS);
  try {
    let read = 0;
    while (read < size + 1) {
      const count = readSync(fd, into, read, size + 1 - read, null);
      if (count === 0) break;
      read += count;
    }
    // The same error tar-stream gave a file whose length changed.
    if (read !== size) throw new Error('Size mismatch');
    return size;
  } finally {
    closeSync(fd);
  }
}

interface ChunkRoom {
  /** The current chunk when it is full (a new one takes its place), else undefined. */
  takeIfFull(): Buffer | undefined;
  current(): { chunk: Buffer; used: number };
  advance(count: number): void;
}

/**
 * A large file read into the chunk as it has room, opened as a small file is (O_NOFOLLOW) and
 * checked with fstat on that descriptor (no gap between the check and the read): a regular file
 * of the listed size, which must end exactly there (one more byte is a file that grew).
 */
async function* readLargeFile(path: string, size: number, room: ChunkRoom): AsyncGenerator<Buffer> {
  const handle = await open(path, READ_FLAGS);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`${path} is no longer a regular file`);
    if (stats.size !== size) throw new Error('Size mismatch');
    let left = size;
    while (left > 0) {
      const full = room.takeIfFull();
      if (full !== undefined) yield full;
      const { chunk, used } = room.current();
      const { bytesRead } = await handle.read(chunk, used, Math.min(left, chunk.length - used), null);
      if (bytesRead === 0) throw new Error('Size mismatch');
      room.advance(bytesRead);
      left -= bytesRead;
    }
    const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, null);
    if (bytesRead !== 0) throw new Error('Size mismatch');
  } finally {
    await handle.close();
  }
}
