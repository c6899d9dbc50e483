/**
 * One file out of an archive, streamed: the tar is read up to that file's entry and
 * no further (the dashboard's download of a single artifact). The archive's digest is
 * not checked here (that needs every byte); the stage that consumes the archive checks it.
 */
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import type { ArchiveCompression } from './pack.js';

/** The file at `path` (a regular file's entry; links are the caller's to resolve), or undefined when there is none. */
export function readArchiveMember(source: Readable, path: string, compression: ArchiveCompression): Promise<Readable | undefined> {
  const extractor = tarExtract();
  const stages: NodeJS.ReadWriteStream[] = compression === 'gzip' ? [createGunzip()] : [];
  return new Promise((resolve, reject) => {
    let found = false;
    const stop = () => {
      source.destroy();
      extractor.destroy();
    };
    pipeline([source, ...stages, extractor]).then(
      () => {
        if (!found) resolve(undefined);
      },
      (error: unknown) => {
        if (!found) reject(error);
      },
    );
    extractor.on('entry', (header, entry, next) => {
      const isFile = header.type === 'file' || header.type === 'contiguous-file';
      if (found || !isFile || header.name !== path) {
        entry.on('end', next);
        entry.resume();
        return;
      }
      found = true;
      const out = new PassThrough();
      entry.on('error', (error) => out.destroy(error));
      entry.on('end', stop);
      out.on('close', stop);
      entry.pipe(out);
      resolve(out);
    });
  });
}
