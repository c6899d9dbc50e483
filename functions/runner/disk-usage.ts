/** Disk space a directory tree occupies (allocated blocks, as a quota counts them), via `du`. */
import { execFile } from 'node:child_process';

export function diskUsageBytes(path: string): Promise<number> {
  return new Promise((resolve) => {
    // -s: one total; -k: KiB; -x: stay on one file system. Files vanishing mid-walk make du exit 1 with a
    // usable total, so the number is read whatever the exit code.
    execFile('du', ['-skx', path], { encoding: 'utf8' }, (_error, stdout) => {
      const kib = Number.parseInt(stdout.split(/\s/)[0] ?? '', 10);
      resolve(Number.isFinite(kib) ? kib * 1024 : 0);
    });
  });
}
