/**
 * Unpacks an archive made by packArchive into a directory, with the safety rules of
 * every extraction here (safe-extract.ts: no `..`, no absolute paths, no links out,
 * no devices, capped bytes and entries), checking the archive's sha256 and size on
 * the way down. A mismatch, or bytes that are not a tar at all, is ArtifactCorrupt.
 *
 * Streaming means files are already written when the last byte shows a mismatch:
 * the caller must treat the directory as spoiled on ArtifactCorrupt (the agent fails
 * the stage; its workspace is thrown away).
 */
import type { Readable } from 'node:stream';
import { ArtifactCorrupt, SnapshotTooLarge, UnsafeArchive } from '../errors.js';
import { ArchiveDigest, OFF_THREAD_FROM_BYTES } from './archive-digest.js';
import type { ArchiveCompression } from './pack.js';
import { extractTar, type ExtractSummary } from './safe-extract.js';

export interface UnpackOptions {
  /** The archive's expected sha256 (hex) and size, from the manifest written when it was packed. */
  sha256: string;
  bytes: number;
  compression: ArchiveCompression;
  /** Cap on the bytes of file content unpacked. */
  maxBytes: number;
  /** Cap on the number of entries (default safe-extract's DEFAULT_MAX_ENTRIES). */
  maxEntries?: number;
  /** Names the archive in errors (an S3 key, say). */
  name: string;
  /** Receives the root-relative paths the unpacking wrote, even when it fails (safe-extract.ts ExtractOptions.written). */
  written?: string[];
}

export async function unpackArchive(source: Readable, directory: string, options: UnpackOptions): Promise<ExtractSummary> {
  const digest = new ArchiveDigest({ offThread: options.bytes >= OFF_THREAD_FROM_BYTES });
  let summary: ExtractSummary;
  try {
    summary = await extractTar(source, directory, {
      gunzip: options.compression === 'gzip',
      tap: digest,
      maxBytes: options.maxBytes,
      maxEntries: options.maxEntries,
      written: options.written,
    });
  } catch (error) {
    // Caps and hostile entries keep their own names; a stream that cannot be parsed is corruption.
    if (error instanceof SnapshotTooLarge || error instanceof UnsafeArchive) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw error;
    if (isFormatError(error)) {
      throw new ArtifactCorrupt(`${options.name} is not a readable archive: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
  const { sha256, bytes } = await digest.result();
  if (sha256 !== options.sha256 || bytes !== options.bytes) {
    throw new ArtifactCorrupt(
      `${options.name} does not match its manifest: ${bytes} bytes with sha256 ${sha256}, expected ${options.bytes} bytes with sha256 ${options.sha256}`,
    );
  }
  return summary;
}

/** tar-stream's and zlib's complaints about the bytes themselves (not I/O errors of the source). */
function isFormatError(error: unknown): boolean {
  const { message, code } = error as NodeJS.ErrnoException;
  if (typeof code === 'string' && code.startsWith('Z_')) return true;
  return /invalid tar header|unexpected end of data|premature close|unexpected end|size mismatch/i.test(message ?? '');
}
