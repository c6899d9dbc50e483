/**
 * Reads one file out of a gzipped source tarball without unpacking the rest. GitHub's tarball
 * API puts everything under one top-level directory (`owner-repo-sha/`), `git archive` may not,
 * so the file matches at the root or one directory down.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

export class SnapshotFileTooLarge extends Error {
  override readonly name = 'SnapshotFileTooLarge';
}

function matches(entryName: string, fileName: string): boolean {
  const parts = entryName.replace(/^\.\//, '').split('/');
  if (parts.length === 1) return parts[0] === fileName;
  return parts.length === 2 && parts[1] === fileName;
}

/** Stops the extraction once the file is read: the rest of the snapshot is not needed. */
class FileFound extends Error {
  override readonly name = 'FileFound';
  constructor(readonly text: string) {
    super('found');
  }
}

export async function readFileFromSnapshot(snapshot: Readable, fileName: string, maxBytes: number): Promise<string | undefined> {
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    if (header.type !== 'file' || !matches(header.name, fileName)) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    // Destroying the extraction destroys this entry with the same error: it is reported once, by pipeline().
    stream.on('error', () => undefined);
    if ((header.size ?? 0) > maxBytes) {
      tar.destroy(new SnapshotFileTooLarge(`${fileName} is ${header.size} bytes, above the ${maxBytes}-byte limit`));
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => tar.destroy(new FileFound(Buffer.concat(chunks).toString('utf8'))));
  });
  try {
    await pipeline(snapshot, createGunzip(), tar);
  } catch (error) {
    if (error instanceof FileFound) return error.text;
    throw error;
  }
  return undefined;
}
