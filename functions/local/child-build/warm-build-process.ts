/**
 * One build process forked and loaded ahead of the next build. A build's child
 * (build-process.ts) statically imports the whole farm, about 300 ms of loading
 * from the bundle (over a second through tsx) before it can build; `buildfarm serve` keeps one child idle so a build starts
 * without that wait. A taken child is replaced about a second later, so the
 * replacement's loading does not compete with the build that just started.
 *
 * An idle child never keeps the farm (or a test) alive: it and its IPC channel
 * are unref'd while idle and ref'd again when taken. Closing its channel ends
 * it (build-process.ts exits when its farm is gone); one that exits by itself
 * is forgotten, and the next take forks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import type { BuildProcessEntry } from './entry.js';
import type { FromBuildProcess } from './protocol.js';

/** The build process's niceness (0 is the farm's; 19 the lowest priority). */
export const BUILD_PROCESS_NICENESS = 10;
/** After a take, when the next child is forked. */
const REPLACE_AFTER_MS = 1000;
/** After close() disconnects the idle child, how long it gets to exit before SIGKILL. */
const CLOSE_GRACE_MS = 3000;

/** Forks a build's child process (it waits for its `run` message). */
export function forkBuildProcess(entry: BuildProcessEntry): ChildProcess {
  const child = fork(entry.module, [], {
    execArgv: entry.execArgv,
    serialization: 'json',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (child.pid !== undefined) {
    // Builds yield the CPU to the farm: on a busy machine the webhook's acknowledgement and the
    // dashboard come first (its stages inherit the niceness). Best effort: not every system allows it.
    try {
      setPriority(child.pid, BUILD_PROCESS_NICENESS);
    } catch {
      // keep the default priority
    }
  }
  return child;
}

interface Idle {
  child: ChildProcess;
  /** It said `ready`: its modules are loaded. */
  loaded: boolean;
  forget(): void;
}

export class WarmBuildProcesses {
  #idle: Idle | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Forks the first idle child at once. */
  constructor(private readonly entry: BuildProcessEntry, private readonly replaceAfterMs = REPLACE_AFTER_MS) {
    this.#fill();
  }

  /** The idle child, if any: its pid and whether it has loaded. */
  idle(): { pid: number; loaded: boolean } | undefined {
    const pid = this.#idle?.child.pid;
    return pid === undefined ? undefined : { pid, loaded: this.#idle!.loaded };
  }

  /** A child for one build (the idle one if it is still there, else a new one), ref'd again; a replacement follows. */
  take(): ChildProcess {
    const idle = this.#release();
    const usable = idle !== undefined && idle.child.connected && idle.child.exitCode === null && idle.child.signalCode === null;
    if (idle !== undefined && !usable) idle.child.kill('SIGKILL');
    const child = usable ? idle.child : forkBuildProcess(this.entry);
    child.ref();
    child.channel?.ref();
    if (!this.#closed && this.#timer === undefined) {
      this.#timer = setTimeout(() => ((this.#timer = undefined), this.#fill()), this.replaceAfterMs).unref();
    }
    return child;
  }

  /** Ends the idle child and keeps nothing warm from now on (take() still forks). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const idle = this.#release();
    if (idle === undefined || idle.child.exitCode !== null || idle.child.signalCode !== null) return;
    const { child } = idle;
    child.ref(); // waited for: nothing may outlive the farm's close
    child.on('error', () => undefined);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Loaded, its channel closing is its farm going away: it exits by itself (build-process.ts).
    // Still loading, it has no build and no stage to stop: killed outright.
    if (idle.loaded && child.connected) child.disconnect();
    else child.kill('SIGKILL');
    const killer = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(killer);
  }

  #release(): Idle | undefined {
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.forget();
    return idle;
  }

  #fill(): void {
    if (this.#closed || this.#idle !== undefined) return;
    const child = forkBuildProcess(this.entry);
    const onMessage = (message: FromBuildProcess) => void (message.type === 'ready' && (idle.loaded = true));
    // Died while idle (or could not start): forgotten; the next take forks.
    const onExit = () => void (this.#idle === idle && this.#release());
    const idle: Idle = {
      child,
      loaded: false,
      forget: () => void child.off('message', onMessage).off('exit', onExit).off('error', onExit),
    };
    child.on('message', onMessage).once('exit', onExit).once('error', onExit);
    child.unref();
    child.channel?.unref();
    this.#idle = idle;
  }
}
