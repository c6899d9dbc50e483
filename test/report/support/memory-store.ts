import { Readable } from 'node:stream';
import type { ArtifactStore, StoredObject } from '../../../functions/ports/artifact-store.js';

/**
 * An ArtifactStore in memory, with the port's semantics (missing objects are
 * `undefined`, streams are read whole), that keeps each object's content type.
 */
export class MemoryArtifactStore implements ArtifactStore {
  readonly objects = new Map<string, { body: Buffer; contentType?: string }>();
  /** When set, every put fails with it (to test what survives a storage failure). */
  failPutsWith: Error | undefined;

  async put(key: string, body: Readable | Buffer | string, contentType?: string): Promise<void> {
    if (this.failPutsWith) throw this.failPutsWith;
    let bytes: Buffer;
    if (typeof body === 'string' || Buffer.isBuffer(body)) bytes = Buffer.from(body);
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
      bytes = Buffer.concat(chunks);
    }
    this.objects.set(key, { body: bytes, contentType });
  }

  async get(key: string): Promise<Readable | undefined> {
    const object = this.objects.get(key);
    return object === undefined ? undefined : Readable.from([object.body]);
  }

  async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.body.toString('utf8');
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const [key, { body }] of this.objects) if (key.startsWith(prefix)) yield { key, size: body.length };
  }
}
