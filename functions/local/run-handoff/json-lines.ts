/** One JSON value per line over a stream socket, for the run hand-off (protocol.ts). */
import type { Socket } from 'node:net';
import { MAX_LINE_BYTES } from './protocol.js';

export class HandOffLineTooLong extends Error {
  override readonly name = 'HandOffLineTooLong';
}

/**
 * Calls `onMessage` with each line's value, in order. A line that is not JSON, or longer than
 * MAX_LINE_BYTES, or whose handling throws, destroys the socket with an error (the other side is
 * not a buildfarm).
 */
export function readJsonLines(socket: Socket, onMessage: (message: unknown) => void): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  socket.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, newline));
      const line = Buffer.concat(pending).toString('utf8');
      pending = [];
      pendingBytes = 0;
      start = newline + 1;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        socket.destroy(new Error(`the other side sent a line that is not JSON: ${line.slice(0, 80)}`));
        return;
      }
      try {
        onMessage(message);
      } catch (error) {
        // A value JSON.parse took that its handler cannot (nested 100,000 deep: a RangeError from
        // the recursion in any walk over it) ends this connection, never the process.
        socket.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (socket.destroyed) return;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) socket.destroy(new HandOffLineTooLong(`a line of more than ${MAX_LINE_BYTES} bytes`));
    }
  });
}

export function writeJsonLine(socket: Socket, message: unknown): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}
