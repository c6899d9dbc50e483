/**
 * One `buildfarm serve` per data directory: it writes its pid to `DIR/serve.pid`
 * while it runs. A second farm, or `buildfarm gc`, on the same directory would
 * otherwise rewrite records and bus messages under the running farm's feet. A
 * pid file left by a farm that died (`kill -9`) names a process that is gone,
 * and is taken over.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../domain/errors.js';
import { processAlive } from './process-alive.js';

export class DataDirectoryInUse extends UserError {
  override name = 'DataDirectoryInUse';
}

const PID_FILE = 'serve.pid';

/** The pid of the live farm serving `directory`, if another process is one. */
export async function servingProcess(directory: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(directory, PID_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  return processAlive(pid) ? pid : undefined;
}

export async function claimDataDirectory(directory: string): Promise<{ release(): Promise<void> }> {
  const other = await servingProcess(directory);
  if (other !== undefined) throw new DataDirectoryInUse(`${directory} is in use by another buildfarm serve (pid ${other}); stop it or choose another --data-dir`);
  const file = join(directory, PID_FILE);
  await writeFile(file, `${process.pid}\n`);
  return {
    async release() {
      const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
      if (holder === String(process.pid)) await unlink(file).catch(() => undefined);
    },
  };
}
