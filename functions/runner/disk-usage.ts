/**
 * Disk space a directory tree occupies (allocated blocks, as a quota counts
 * them). `du` is fast; where it is missing (a minimal runner image) the tree
 * is walked in Node instead.
 */
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function diskUsageBytes(path: string): Promise<number> {
  const fromDu = await duBytes(path);
  return fromDu ?? walkBytes(path);
}

function duBytes(path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    // -s: one total; -k: KiB; -x: stay on one file system. Files vanishing mid-walk make du exit 1 with a
    // usable total, so the number is read whatever the exit code.
    execFile('du', ['-skx', path], { encoding: 'utf8' }, (error, stdout) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return resolve(undefined);
      const kib = Number.parseInt(stdout.split(/\s/)[0] ?? '', 10);
      resolve(Number.isFinite(kib) ? kib * 1024 : 0);
    });
  });
}

/** Sums allocated 512-byte blocks, without following links; files that vanish mid-walk count as 0. */
export async function walkBytes(path: string): Promise<number> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return 0;
  let total = stats.blocks * 512;
  if (stats.isDirectory()) {
    const names = await readdir(path).catch(() => [] as string[]);
    for (const name of names) total += await walkBytes(join(path, name));
  }
  return total;
}
