/**
 * Nothing a stage starts may outlive it. In the bubblewrap sandbox the PID
 * namespace does that (its init dies, the kernel kills the rest). Without it,
 * a process that `setsid`s and whose parent exits is reparented away from the
 * command's tree, out of reach of the process-group walk. Two nets catch it:
 *
 * - a cgroup v2 subtree per command, when the farm may make one under its own
 *   cgroup (a delegated systemd user slice; root): every descendant stays in
 *   it whatever it does, and `cgroup.kill` (Linux 5.14) ends them all;
 * - a marker in the environment (`BUILDFARM_STAGE_MARKER`), inherited by every
 *   descendant that does not clear its environment, found by scanning
 *   /proc/<pid>/environ.
 *
 * https://docs.kernel.org/admin-guide/cgroup-v2.html (cgroup.procs, cgroup.kill, cgroup.freeze)
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The environment variable that marks a stage's processes. */
export const STAGE_MARKER_VARIABLE = 'BUILDFARM_STAGE_MARKER';

/** Sweeps before giving up on a tree that keeps forking. */
const SWEEP_ROUNDS = 20;
const SETTLE_MS = 50;

/**
 * The prefix of every marker this process makes. The local farm runs each build in a child
 * process (functions/local/child-build) and gives it a family of its own: if that process is
 * killed outright, the farm still finds the stages it left by the family (killMarkedFamily).
 */
let markerFamily = '';

/** Makes every later marker of this process start with `family` (hex, so no marker is another's prefix by chance). */
export function useStageMarkerFamily(family: string): void {
  if (!/^[0-9a-f]{8,}$/.test(family)) throw new Error(`a stage marker family is 8 or more hex digits, not "${family}"`);
  markerFamily = `${family}-`;
}

/** A fresh stage marker family (for useStageMarkerFamily in another process). */
export function newStageMarkerFamily(): string {
  return randomBytes(8).toString('hex');
}

/** A fresh marker for one stage run. */
export function newStageMarker(): string {
  return markerFamily + randomBytes(12).toString('hex');
}

/** The live processes (not zombies) whose environment carries `marker`, other than this one. */
export async function markedProcesses(marker: string): Promise<number[]> {
  return processesWhoseEnvironmentHas(Buffer.from(`${STAGE_MARKER_VARIABLE}=${marker}\0`));
}

/** The live processes carrying any marker of `family` (see useStageMarkerFamily). */
export async function familyProcesses(family: string): Promise<number[]> {
  return processesWhoseEnvironmentHas(Buffer.from(`${STAGE_MARKER_VARIABLE}=${family}-`));
}

async function processesWhoseEnvironmentHas(needle: Buffer): Promise<number[]> {
  const names = await readdir('/proc').catch(() => [] as string[]);
  const found: number[] = [];
  await Promise.all(
    names
      .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
      .map(async (name) => {
        const environ = await readFile(`/proc/${name}/environ`).catch(() => undefined);
        if (environ === undefined || environ.indexOf(needle) < 0) return;
        if (await isZombie(Number(name))) return;
        found.push(Number(name));
      }),
  );
  return found;
}

/**
 * Kills every process that carries `marker`, freezing each first so a tree
 * still forking cannot outrun the sweep; resolves with how many were found.
 */
export async function killMarked(marker: string): Promise<number> {
  return killSweeping(() => markedProcesses(marker));
}

/** killMarked for every marker of `family`: the stages a killed build process left behind. */
export async function killMarkedFamily(family: string): Promise<number> {
  return killSweeping(() => familyProcesses(family));
}

async function killSweeping(find: () => Promise<number[]>): Promise<number> {
  const killed = new Set<number>();
  for (let round = 0; round < SWEEP_ROUNDS; round += 1) {
    const marked = await find();
    if (marked.length === 0) break;
    for (const pid of marked) signal(pid, 'SIGSTOP');
    for (const pid of marked) {
      signal(pid, 'SIGKILL');
      killed.add(pid);
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
  return killed.size;
}

/** A cgroup v2 subtree for one command (see the file's comment). */
export class CommandCgroup {
  private constructor(readonly path: string) {}

  /** Makes `buildfarm-<marker>` under this process's own cgroup; undefined where cgroup v2 is absent or not writable. */
  static async open(marker: string): Promise<CommandCgroup | undefined> {
    const own = await ownCgroupDirectory();
    if (own === undefined) return undefined;
    const path = join(own, `buildfarm-${marker}`);
    try {
      await mkdir(path);
      return new CommandCgroup(path);
    } catch {
      return undefined;
    }
  }

  /**
   * The `sh -c` arguments that put the shell in this cgroup before it runs
   * `command` (writing 0 to cgroup.procs moves the writer), so no child can be
   * forked outside it. If the move fails, the command still runs (the marker sweep remains).
   */
  wrap(command: string): string[] {
    return ['-c', '{ echo 0 > "$1/cgroup.procs"; } 2>/dev/null; shift; exec sh -c "$1"', 'sh', this.path, command];
  }

  /** Kills everything left in the cgroup and removes it; resolves with how many processes were in it. */
  async release(): Promise<number> {
    const seen = new Set<number>();
    const kill = join(this.path, 'cgroup.kill');
    for (let round = 0; round < SWEEP_ROUNDS; round += 1) {
      const pids = await this.members();
      if (pids.length === 0) break;
      for (const pid of pids) seen.add(pid);
      if (existsSync(kill)) await writeFile(kill, '1').catch(() => undefined);
      else {
        await writeFile(join(this.path, 'cgroup.freeze'), '1').catch(() => undefined);
        for (const pid of pids) signal(pid, 'SIGKILL');
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
    // A killed process leaves the cgroup only once reaped: until then rmdir says EBUSY.
    for (let attempt = 0; attempt < SWEEP_ROUNDS; attempt += 1) {
      const removed = await rmdir(this.path).then(() => true, (error: NodeJS.ErrnoException) => error.code === 'ENOENT');
      if (removed) break;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
    return seen.size;
  }

  private async members(): Promise<number[]> {
    const text = await readFile(join(this.path, 'cgroup.procs'), 'utf8').catch(() => '');
    const pids = text.split('\n').filter((line) => line !== '').map(Number);
    const live: number[] = [];
    for (const pid of pids) if (!(await isZombie(pid))) live.push(pid);
    return live;
  }
}

/** `<cgroup2 mount><this process's cgroup>`, from /proc/self/mountinfo and /proc/self/cgroup. */
async function ownCgroupDirectory(): Promise<string | undefined> {
  const [mountinfo, cgroups] = await Promise.all([
    readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
    readFile('/proc/self/cgroup', 'utf8').catch(() => ''),
  ]);
  // mountinfo: "... <mount point> <options> [optional fields] - <fs type> <source> <super options>"
  const mount = mountinfo
    .split('\n')
    .map((line) => line.split(' - '))
    .find(([, tail]) => tail?.startsWith('cgroup2 '))?.[0]
    ?.split(' ')[4];
  // cgroup v2's line is "0::<path>".
  const own = cgroups.split('\n').find((line) => line.startsWith('0::'))?.slice(3);
  if (mount === undefined || own === undefined) return undefined;
  return join(mount, own);
}

async function isZombie(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return true;
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
