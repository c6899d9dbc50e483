/**
 * The Fargate task's `live-log` container: it follows the log file the build container
 * writes and prints it, through the stage's log cap (log-cap.ts), to its own stdout,
 * which the awslogs driver ships to CloudWatch Logs. The build container's commands never
 * write to their stdout themselves: a command that prints 1 GB would otherwise send 1 GB
 * to CloudWatch (billed per GB ingested), and nothing in a user's image can be trusted to
 * cap it. This container runs our helper image, holds no credentials (no grant in its
 * overrides), and mounts the logs volume read-only.
 *
 * It stops when the task metadata endpoint says the build container has STOPPED, or on
 * SIGTERM (the task stopping once publish, the essential container, exits): either way it
 * reads what is left, prints the marker and the tail, and ends.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BUILD_CONTAINER } from '../domain/fargate/layout.js';
import type { MetadataContainer } from '../domain/fargate/task-metadata.js';
import { DEFAULT_LOG_CAP_BYTES, HeadTailCap } from './log-cap.js';

export interface LiveLogOptions {
  logFile: string;
  output: NodeJS.WritableStream;
  capBytes?: number;
  /** Whether the build container has stopped (the task metadata endpoint, in the task). */
  buildStopped(): Promise<boolean>;
  /** Resolves when the follower must finish now (SIGTERM). */
  stopRequested?: Promise<void>;
  pollMs?: number;
  /** Bytes read per step: the follower's memory stays this plus the cap's tail. */
  chunkBytes?: number;
}

/** True once the metadata lists the build container as STOPPED. */
export function buildContainerStopped(taskMetadata: unknown): boolean {
  const containers = (taskMetadata as { Containers?: MetadataContainer[] } | null)?.Containers ?? [];
  return containers.some((c) => c.Name === BUILD_CONTAINER && c.KnownStatus === 'STOPPED');
}

/** Follows the log until the build stops (or a stop is requested); returns the bytes it read. */
export async function followLiveLog(options: LiveLogOptions): Promise<number> {
  const cap = new HeadTailCap(options.capBytes ?? DEFAULT_LOG_CAP_BYTES);
  const buffer = Buffer.alloc(options.chunkBytes ?? 1024 * 1024);
  const pollMs = options.pollMs ?? 500;
  let stop = false;
  void options.stopRequested?.then(() => {
    stop = true;
  });
  let file: FileHandle | undefined;
  let position = 0;
  const drain = async (): Promise<void> => {
    // The build user owns the logs volume: never follow a link left in the log's place, never block on a FIFO.
    file ??= await open(options.logFile, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
    if (!file) return;
    if (!(await file.stat()).isFile()) {
      await write(options.output, 'buildfarm: the log is not a regular file; live output stops here\n');
      stop = true;
      return;
    }
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      const { now, justOverflowed } = cap.take(buffer.subarray(0, bytesRead));
      // A copy: the read buffer is reused, and a stream may still hold what it was given.
      if (now.length > 0) await write(options.output, Buffer.from(now));
      if (justOverflowed) {
        await write(options.output, `\n[buildfarm: the log reached half its ${cap.capBytes}-byte cap; further output is held back and its end is written when the stage ends]\n`);
      }
    }
  };
  try {
    for (;;) {
      // Ask before draining: output written before the build stopped is all read by this drain.
      const finished = stop || (await options.buildStopped().catch(() => false));
      await drain();
      if (finished) break;
      await Promise.race([sleep(pollMs), options.stopRequested ?? sleep(pollMs)]);
    }
    for (const part of cap.finish()) await write(options.output, part);
  } finally {
    await file?.close();
  }
  return position;
}

function write(output: NodeJS.WritableStream, bytes: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (output.write(bytes)) resolve();
    else output.once('drain', () => resolve());
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
