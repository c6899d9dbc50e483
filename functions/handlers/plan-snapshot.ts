/**
 * The Plan task's first step: the commit's source snapshot stored in S3 (every stage unpacks it
 * from there), and the pipeline file read out of it.
 *
 * A snapshot of up to HELD_SNAPSHOT_MAX_BYTES (gzip: most repositories) is held in memory: it is
 * stored and searched for the pipeline file at the same time, from the same bytes. A bigger one
 * streams into S3 (memory stays bounded) and is then read back from there, as every snapshot
 * was before: that GET and its gunzip took 10 to 50 ms of every build's plan locally, and on AWS an
 * S3 GET's first byte is tens of milliseconds more (issue 12).
 */
import { Readable } from 'node:stream';
import { PipelineInvalid } from '../domain/errors.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { readFileFromSnapshot } from './snapshot-file.js';

export const PIPELINE_FILE = '.buildfarm.yml';
/** A pipeline file is text a person writes; anything bigger is a mistake. */
const MAX_PIPELINE_FILE_BYTES = 1024 * 1024;
/** Snapshots up to this size (compressed) are held in memory while stored and searched. */
export const HELD_SNAPSHOT_MAX_BYTES = 8 * 1024 * 1024;

export interface PipelineWhileStoring {
  pipelineText: string;
  /** Settles when the snapshot is stored: the caller awaits it before anything can read the snapshot. */
  stored: Promise<void>;
}

/**
 * The pipeline file's text as soon as it is found, while the snapshot may still be on its way into
 * S3 (a held one: the Plan task loads the stage histories meanwhile). A failure resolves nothing:
 * the store's error when the upload failed, else PipelineInvalid when the snapshot has no
 * pipeline file, thrown once the upload has settled (the snapshot is stored even then, as before).
 */
export async function readPipelineWhileStoringSnapshot(store: ArtifactStore, key: string, snapshot: Readable): Promise<PipelineWhileStoring> {
  const held = await holdIfSmall(snapshot, HELD_SNAPSHOT_MAX_BYTES);
  if (held instanceof Buffer) {
    const stored = store.put(key, held, 'application/gzip');
    // Awaited by the caller, or below on a failure: never unhandled in between.
    stored.catch(() => undefined);
    let text: string;
    try {
      text = pipelineText(await readFileFromSnapshot(Readable.from([held]), PIPELINE_FILE, MAX_PIPELINE_FILE_BYTES));
    } catch (error) {
      // The store's failure first: as when the scan read the stored object.
      await stored;
      throw error;
    }
    return { pipelineText: text, stored };
  }
  await store.put(key, held, 'application/gzip');
  const stored = await store.get(key);
  if (!stored) throw new Error(`source snapshot ${key} is missing`);
  return { pipelineText: pipelineText(await readFileFromSnapshot(stored, PIPELINE_FILE, MAX_PIPELINE_FILE_BYTES)), stored: Promise.resolve() };
}

function pipelineText(text: string | undefined): string {
  if (text === undefined) {
    throw new PipelineInvalid([{ file: PIPELINE_FILE, line: 1, column: 1, path: '', message: `no ${PIPELINE_FILE} at the root of the repository` }]);
  }
  return text;
}

/**
 * The whole stream as one Buffer when it ends within `maxBytes`; otherwise a stream of all of it
 * (what was read so far, then the rest).
 */
export async function holdIfSmall(stream: Readable, maxBytes: number): Promise<Buffer | Readable> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const read: Buffer[] = [];
  let bytes = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return Buffer.concat(read, bytes);
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    read.push(chunk);
    bytes += chunk.length;
    if (bytes > maxBytes) break;
  }
  return Readable.from(
    (async function* () {
      try {
        yield* read;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      } finally {
        // An upload that gives up destroys this stream: the source (git archive, GitHub's tarball) is closed with it.
        await iterator.return?.();
      }
    })(),
    { objectMode: false },
  );
}
