/**
 * Room set aside on a Fargate task's ephemeral storage (layout.ts DISK_RESERVE_FILE). The
 * build container shares that storage with the helpers (volumes and image layers alike:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-storage.html),
 * so a stage that fills it would otherwise leave publish no room, and no way to tell a
 * full disk from any other failing command. fetch writes the reserve (real blocks, not a
 * sparse file), the build container cannot delete it (read-only mount), and publish first
 * measures the free space, then deletes the reserve.
 */
import { open, rm, statfs } from 'node:fs/promises';

/** Below this much free space when the commands stopped, the disk counts as full. */
export const FULL_DISK_FREE_BYTES = 32 * 1024 * 1024;

/** Writes `bytes` of zeros to `path` (a new file); false, with the file removed, when there is no room. */
export async function setAsideDiskReserve(path: string, bytes: number): Promise<boolean> {
  const chunk = Buffer.alloc(1024 * 1024);
  const file = await open(path, 'w', 0o600);
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      await file.write(chunk, 0, Math.min(chunk.length, bytes - written));
    }
    await file.sync();
  } catch {
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    return false;
  }
  await file.close();
  return true;
}

export interface DiskAtRelease {
  /** Bytes free for an unprivileged writer before the reserve was deleted. */
  freeBytes: number;
  /** Less than FULL_DISK_FREE_BYTES was free: the stage used up the task's storage. */
  wasFull: boolean;
}

/** Measures the storage `volume` lives on, then deletes the reserve (if any) to give publish room. */
export async function releaseDiskReserve(path: string, volume: string): Promise<DiskAtRelease> {
  const stats = await statfs(volume);
  const freeBytes = Number(stats.bavail) * Number(stats.bsize);
  await rm(path, { force: true });
  return { freeBytes, wasFull: freeBytes < FULL_DISK_FREE_BYTES };
}
