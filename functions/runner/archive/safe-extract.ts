/**
 * Safe, streaming extraction of a tar stream (gzipped or not) into a directory:
 * the one place that unpacks anything into a workspace (the source snapshot,
 * artifact archives, caches).
 *
 * The archive comes from the user's repository or from what a stage's commands
 * left behind, so it is treated as hostile:
 * - entry paths must be relative and free of `..` (no write lands outside);
 * - links are created only after every file and directory is written, so no
 *   write can ever go through a link the archive planted; hard links must
 *   name a regular file already extracted; symbolic links must point inside
 *   the workspace and are written with their target lexically resolved (so a
 *   chain like `a -> .`, `b -> a/..` cannot climb out), then checked once
 *   more with realpath when all links exist;
 * - devices and FIFOs are skipped;
 * - the unpacked size and the entry count are capped (decompression bombs).
 */
import { link, lstat, mkdir, readlink, realpath, rm, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { SnapshotTooLarge, UnsafeArchive } from '../errors.js';
import { FileWriter } from './file-writer.js';

export interface ExtractOptions {
  /** The stream is gzip (default true: snapshots are .tar.gz). */
  gunzip?: boolean;
  /**
   * Sees the raw bytes first, before any decompression (a MeasuringStream that hashes
   * what came down, for instance). Its errors fail the extraction.
   */
  tap?: Transform;
  /** Drop the archive's single top-level folder (GitHub tarballs wrap everything in `{owner}-{repo}-{sha}/`). */
  stripTopLevel?: boolean;
  /** Cap on the bytes of file content unpacked. */
  maxBytes: number;
  /** Cap on the number of entries (an archive of millions of empty files is a bomb too). */
  maxEntries?: number;
  /**
   * Receives the root-relative paths (with `/`) this extraction writes: each file and link
   * before its write starts, and each directory it creates once the writer made it (once, at
   * the top of what it made; a directory that was already there is not its own). Complete
   * when the extraction settles, also when it fails (the writer's work in flight is waited
   * for), so a caller can undo exactly this extraction and nothing else.
   */
  written?: string[];
}

export interface ExtractSummary {
  files: number;
  bytes: number;
}

export const DEFAULT_MAX_ENTRIES = 1_000_000;

/** Per-entry allowance for tar headers and padding when capping the decompressed stream. */
const TAR_OVERHEAD_PER_ENTRY = 1536;

/**
 * Files up to this size are read whole from the archive and handed to the writer in one
 * operation (open, write, close on its thread); larger ones are streamed to it in chunks.
 */
const SMALL_FILE_BYTES = 64 * 1024;

async function readChunks(entry: AsyncIterable<unknown>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return chunks;
}

interface PendingLink {
  entry: string;
  path: string;
  target: string;
}

/**
 * Extracts `source` into `directory` (created when missing). Entries already there are
 * replaced (a file planted as a link is removed first, never written through).
 */
export async function extractTar(
  source: Readable,
  directory: string,
  options: ExtractOptions,
): Promise<ExtractSummary> {
  const root = resolve(directory);
  await mkdir(root, { recursive: true });
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;

  let entries = 0;
  let bytes = 0;
  let files = 0;
  // Caps the decompressed tar stream itself, so padding or junk after the archive cannot inflate forever.
  let decompressed = 0;
  const decompressedCap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decompressed += chunk.length;
      const allowance = options.maxBytes + (entries + 1) * TAR_OVERHEAD_PER_ENTRY + 1024 * 1024;
      if (decompressed > allowance) callback(new SnapshotTooLarge(options.maxBytes));
      else callback(null, chunk);
    },
  });

  const extractor = tarExtract();
  const stages: NodeJS.ReadWriteStream[] = [];
  if (options.tap) stages.push(options.tap);
  if (options.gunzip ?? true) stages.push(createGunzip());
  const feeding = pipeline([source, ...stages, decompressedCap, extractor]);
  // Surface the pipeline's error through the iterator below; keep it from being unhandled meanwhile.
  let feedError: unknown;
  feeding.catch((error: unknown) => {
    feedError = error;
  });

  const hardLinks: PendingLink[] = [];
  const symLinks: PendingLink[] = [];
  // Directories this extraction made or found: each is made once, not once per file in it.
  const directories = new Set<string>();
  const noteWritten = (path: string) => options.written?.push(relative(root, path).split(sep).join(posix.sep));
  // Files and directories are written in order on the writer's thread (file-writer.ts), which
  // reports each directory it had to create; links are made here, after it finished.
  const writer = new FileWriter(noteWritten);
  const makeDirectory = (path: string) => {
    if (directories.has(path)) return;
    writer.mkdir(path);
    directories.add(path);
  };

  try {
    for await (const entry of extractor) {
      const header: Header = entry.header;
      entries += 1;
      if (entries > maxEntries) throw new SnapshotTooLarge(options.maxBytes);

      const relativePath = safeRelativePath(header.name, options.stripTopLevel ?? false);
      if (relativePath === undefined) {
        entry.resume();
        continue;
      }
      const target = join(root, relativePath);

      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          const size = header.size ?? 0;
          if (bytes + size > options.maxBytes) throw new SnapshotTooLarge(options.maxBytes);
          bytes += size;
          makeDirectory(dirname(target));
          // Keep the executable bits; the owner can always read and write their own workspace.
          const mode = ((header.mode ?? 0o644) & 0o777) | 0o600;
          noteWritten(target);
          if (size <= SMALL_FILE_BYTES) writer.writeFile(target, mode, await readChunks(entry));
          else {
            writer.beginFile(target, mode);
            for await (const chunk of entry) {
              writer.append(chunk as Buffer);
              await writer.ready();
            }
            writer.endFile();
          }
          await writer.ready();
          files += 1;
          break;
        }
        case 'directory':
          makeDirectory(target);
          entry.resume();
          break;
        case 'link':
          hardLinks.push({ entry: header.name, path: target, target: hardLinkTarget(root, header, options) });
          entry.resume();
          break;
        case 'symlink':
          symLinks.push({ entry: header.name, path: target, target: symlinkTarget(root, target, header) });
          entry.resume();
          break;
        default:
          // Devices, FIFOs and anything unknown: never created in a workspace.
          entry.resume();
          break;
      }
    }
    await feeding;
    await writer.finish();
  } catch (error) {
    source.destroy();
    extractor.destroy();
    // What the writer already did is reported (`written`) before the failure is.
    await writer.abort();
    throw feedError instanceof SnapshotTooLarge ? feedError : error;
  }

  for (const pending of hardLinks) {
    const stats = await lstat(pending.target).catch(() => undefined);
    if (!stats?.isFile()) throw new UnsafeArchive(pending.entry, 'hard link to something that is not an extracted file');
    await mkdir(dirname(pending.path), { recursive: true }).then((created) => created !== undefined && noteWritten(created));
    noteWritten(pending.path);
    await rm(pending.path, { force: true });
    await link(pending.target, pending.path);
  }
  for (const pending of symLinks) {
    await mkdir(dirname(pending.path), { recursive: true }).then((created) => created !== undefined && noteWritten(created));
    noteWritten(pending.path);
    await rm(pending.path, { force: true, recursive: true });
    await symlink(relativeLinkText(pending), pending.path);
  }
  // Chains of links can leave the workspace even when each one looks inside on its own (`a -> .`, `b -> a/..`).
  const realRoot = await realpath(root);
  for (const pending of symLinks) {
    const resolved = await realpath(pending.path).catch(() => undefined);
    if (resolved !== undefined && !isInside(realRoot, resolved)) {
      await rm(pending.path, { force: true });
      throw new UnsafeArchive(pending.entry, `link resolves outside the workspace (${await readlink(pending.path).catch(() => '?')})`);
    }
  }
  return { files, bytes };
}

/**
 * The entry's path inside the workspace, `undefined` for entries that have
 * none (the stripped top-level folder itself, `.`), or UnsafeArchive.
 */
function safeRelativePath(name: string, stripTopLevel: boolean): string | undefined {
  if (name.includes('\0')) throw new UnsafeArchive(name, 'NUL in path');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\')) {
    throw new UnsafeArchive(name, 'absolute path');
  }
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw new UnsafeArchive(name, 'path escapes the workspace (..)');
  if (stripTopLevel) segments.shift();
  if (segments.length === 0) return undefined;
  return segments.join(sep);
}

function hardLinkTarget(root: string, header: Header, options: ExtractOptions): string {
  const linkname = header.linkname ?? '';
  const relativeTarget = safeRelativePathFor(header.name, linkname, options.stripTopLevel ?? false);
  return join(root, relativeTarget);
}

function safeRelativePathFor(entry: string, linkname: string, stripTopLevel: boolean): string {
  try {
    const relativeTarget = safeRelativePath(linkname, stripTopLevel);
    if (relativeTarget === undefined) throw new UnsafeArchive(entry, 'hard link to the workspace root');
    return relativeTarget;
  } catch (error) {
    if (error instanceof UnsafeArchive) throw new UnsafeArchive(entry, `link target "${linkname}" is outside the workspace`);
    throw error;
  }
}

function symlinkTarget(root: string, linkPath: string, header: Header): string {
  const linkname = header.linkname ?? '';
  if (linkname === '' || isAbsolute(linkname) || linkname.includes('\\')) {
    throw new UnsafeArchive(header.name, `symbolic link to "${linkname}" is outside the workspace`);
  }
  const resolved = resolve(dirname(linkPath), linkname);
  if (!isInside(root, resolved)) {
    throw new UnsafeArchive(header.name, `symbolic link to "${linkname}" is outside the workspace`);
  }
  return resolved;
}

/** The link's text: its lexically resolved target, relative to the link (never through other links' `..`). */
function relativeLinkText(pending: PendingLink): string {
  const text = relative(dirname(pending.path), pending.target);
  return text === '' ? '.' : text.split(sep).join(posix.sep);
}

export function isInside(root: string, candidate: string): boolean {
  const fromRoot = relative(root, candidate);
  return fromRoot === '' || (fromRoot !== '..' && !fromRoot.startsWith(`..${sep}`) && !isAbsolute(fromRoot));
}
