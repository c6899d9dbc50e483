/**
 * The first `length` bytes of the file open at `fd`, read by position (pread) in 1 MiB
 * chunks. Reading through a descriptor opened before a stage's commands ran, and only as
 * far as the agent wrote, is what keeps a stage sharing the agent's uid (Lambda) from
 * swapping the file for a FIFO or a link, or growing it past the log cap. The descriptor
 * stays open whatever happens to the stream (an fs.ReadStream on a given fd closes it when
 * destroyed, even with autoClose: false): its owner closes it.
 */
import { read } from 'node:fs';
import { Readable } from 'node:stream';

export function readFileFromStart(fd: number, length: number): Readable {
  return Readable.from(chunksOf(fd, length), { objectMode: false });
}

async function* chunksOf(fd: number, length: number): AsyncGenerator<Buffer> {
  for (let position = 0; position < length; ) {
    const size = Math.min(1024 * 1024, length - position);
    const { bytesRead, buffer } = await readAt(fd, Buffer.allocUnsafe(size), position);
    if (bytesRead === 0) throw new Error(`the file shrank to ${position} bytes while it was read (${length} expected)`);
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<{ bytesRead: number; buffer: Buffer }> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, buffer.length, position, (error, bytesRead) => (error ? reject(error) : resolve({ bytesRead, buffer }))));
}
