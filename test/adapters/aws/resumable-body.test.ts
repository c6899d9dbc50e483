/**
 * The resumable body's own rules, on in-memory streams (no server: the proxy cases in
 * resumable-get*.test.ts cover real connections): what counts as a cut, what a resume asks for,
 * and that the connection under it is always released.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { resumableBody } from '../../../functions/adapters/aws/resumable-body.js';

const OBJECT = Buffer.from('0123456789abcdefghij');
const fast = { backoffMs: 1 };

/** `bytes`, then `error` (or a clean end when there is none). */
function body(bytes: Buffer, error?: Error): Readable {
  return new Readable({
    read() {
      this.push(bytes);
      if (error) this.destroy(error);
      else this.push(null);
    },
  });
}
const cut = () => Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('Function: resumableBody', () => {
  it('defends against a body that ends cleanly but short of its length: the rest is asked for from the byte reached', async () => {
    // Prepare
    const asked: number[] = [];
    const from = async (offset: number) => (asked.push(offset), body(OBJECT.subarray(offset)));
    // Act
    const read = await readAll(resumableBody({ name: 'k', first: body(OBJECT.subarray(0, 7)), length: OBJECT.length, from }, fast));
    // Assess
    expect(read).toEqual(OBJECT);
    expect(asked).toEqual([7]);
  });

  it('defends against a resume request that itself fails with a cut: it counts as one and the next resume goes on', async () => {
    // Prepare
    const asked: number[] = [];
    const from = async (offset: number) => {
      asked.push(offset);
      if (asked.length === 1) throw Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET' });
      return body(OBJECT.subarray(offset));
    };
    // Act
    const read = await readAll(resumableBody({ name: 'k', first: body(OBJECT.subarray(0, 4), cut()), length: OBJECT.length, from }, fast));
    // Assess
    expect(read).toEqual(OBJECT);
    expect(asked).toEqual([4, 4]);
  });

  it('leaves errors that are not cuts alone: a checksum mismatch is the caller\'s at once', async () => {
    // Prepare
    let resumed = false;
    const mismatch = new Error('Checksum mismatch: expected "a" but received "b"');
    const from = async () => ((resumed = true), body(OBJECT));
    // Act / Assess
    await expect(readAll(resumableBody({ name: 'k', first: body(OBJECT.subarray(0, 4), mismatch), length: OBJECT.length, from }, fast))).rejects.toBe(mismatch);
    expect(resumed).toBe(false);
  });

  it('fails a cut it cannot resume (no ETag to pin to) with ObjectReadInterrupted naming the object and the bytes so far', async () => {
    // Act / Assess
    await expect(readAll(resumableBody({ name: 'builds/b/source.tar.gz', first: body(OBJECT.subarray(0, 4), cut()), length: OBJECT.length }, fast))).rejects.toMatchObject({
      name: 'ObjectReadInterrupted',
      message: expect.stringMatching(/builds\/b\/source\.tar\.gz failed after 4 of 20 bytes: it cannot be resumed; last: aborted/),
    });
  });

  it('releases the connection when the consumer stops early (an unsafe entry, a cap)', async () => {
    // Prepare: a body that never ends on its own
    const first = new Readable({ read() { this.push(Buffer.alloc(1024)); } });
    const stream = resumableBody({ name: 'k', first, length: 10 * 1024 * 1024 }, fast);
    // Act
    for await (const chunk of stream) {
      expect((chunk as Buffer).length).toBeGreaterThan(0);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    // Assess
    expect(first.destroyed).toBe(true);
  });

  it('does not resume for the consumer: a stream destroyed with a cut-like error of its own ends there', async () => {
    // Prepare: a first body that sent 1 KiB and waits
    let resumed = false;
    const first = new Readable({ read() {} });
    first.push(Buffer.alloc(1024));
    const stream = resumableBody({ name: 'k', first, length: 10 * 1024 * 1024, from: async () => ((resumed = true), body(OBJECT)) }, fast);
    stream.on('error', () => undefined);
    await new Promise((resolve) => stream.once('readable', resolve));
    stream.read();
    const closed = new Promise((resolve) => stream.once('close', resolve));
    // Act
    stream.destroy(Object.assign(new Error("the consumer's own socket"), { code: 'ECONNRESET' }));
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Assess
    expect(resumed).toBe(false);
    expect(first.destroyed).toBe(true);
  });
});
