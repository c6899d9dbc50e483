import { Readable } from 'node:stream';
import type { ArtifactStore, ObjectRead, RangeRequest, StoredObject } from '../../../functions/ports/artifact-store.js';
import { resolveRange } from '../../../functions/local/byte-range.js';

/** An ArtifactStore in memory: for tests of the farm that do not need the S3 protocol. */
export class MemoryArtifactStore implements ArtifactStore {
  readonly objects = new Map<string, Buffer>();

  async put(key: string, body: Readable | Buffer | string): Promise<void> {
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      this.objects.set(key, Buffer.from(body));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
    this.objects.set(key, Buffer.concat(chunks));
  }

  async get(key: string): Promise<Readable | undefined> {
    const body = this.objects.get(key);
    return body === undefined ? undefined : Readable.from([body]);
  }

  async read(key: string, range?: RangeRequest): Promise<ObjectRead | 'unsatisfiable' | undefined> {
    const body = this.objects.get(key);
    if (body === undefined) return undefined;
    if (range === undefined) return { body: Readable.from([body]), length: body.length, total: body.length };
    const resolved = resolveRange(range, body.length);
    if (resolved === undefined) return 'unsatisfiable';
    const part = body.subarray(resolved.start, resolved.end + 1);
    return { body: Readable.from([part]), length: part.length, total: body.length, range: resolved };
  }

  async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.toString('utf8');
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const [key, body] of this.objects) if (key.startsWith(prefix)) yield { key, size: body.length };
  }
}
