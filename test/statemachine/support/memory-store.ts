/** An in-memory ArtifactStore for the state machine tests (the S3 adapter has its own tests). */
import { Readable } from 'node:stream';
import type { ArtifactStore, StoredObject } from '../../../functions/ports/artifact-store.js';
import type { MessageAttributes, Notifier } from '../../../functions/ports/notifier.js';

async function toBuffer(body: Readable | Buffer | string): Promise<Buffer> {
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export class MemoryStore implements ArtifactStore {
  readonly objects = new Map<string, Buffer>();

  async put(key: string, body: Readable | Buffer | string): Promise<void> {
    this.objects.set(key, await toBuffer(body));
  }

  async get(key: string): Promise<Readable | undefined> {
    const value = this.objects.get(key);
    return value === undefined ? undefined : Readable.from([value]);
  }

  async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.toString('utf8');
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const [key, value] of this.objects) if (key.startsWith(prefix)) yield { key, size: value.length };
  }

  json<T>(key: string): T | undefined {
    const text = this.objects.get(key)?.toString('utf8');
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }
}

export class MemoryNotifier implements Notifier {
  readonly messages: { message: string; attributes: MessageAttributes }[] = [];

  async publish(message: string, attributes: MessageAttributes): Promise<{ messageId: string }> {
    this.messages.push({ message, attributes });
    return { messageId: String(this.messages.length) };
  }
}
