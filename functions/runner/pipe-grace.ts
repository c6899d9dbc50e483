/**
 * How long to wait for a command's output pipes once the command has exited. What it printed
 * before exiting is in its pipes (or already read and queued for the log): that must all reach
 * the log, however far behind the log is (a saturated disk, a slow live output, which pause
 * the pipes, see run-command.ts). But a process outside the stage's tree (one that escaped
 * every kill) can hold a pipe open forever, and the agent must not wait for it.
 *
 * So the grace counts only while every pipe is being read: time spent paused because the log
 * is behind is the log's, not the holder's. A holder that writes without end keeps the log
 * behind only up to half the log's cap (past it output is held, never waited for, see
 * log-cap.ts), and the wait never outlasts the stage's deadline.
 */
export class PipeGrace {
  private pausedPipes = 0;
  private leftMs: number;
  private runningSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private hardTimer: NodeJS.Timeout | undefined;
  private expire: (() => void) | undefined;

  constructor(private readonly graceMs: number) {
    this.leftMs = graceMs;
  }

  /** A pipe stopped being read (the log is behind): the grace stops running. */
  paused(): void {
    this.pausedPipes += 1;
    this.stopClock();
  }

  /** The pipe is read again. */
  resumed(): void {
    this.pausedPipes = Math.max(0, this.pausedPipes - 1);
    this.startClock();
  }

  /** The command exited: `onExpire` once the grace ran out while reading, or at `hardLimitMs` whatever happens. */
  start(onExpire: () => void, hardLimitMs: number): void {
    this.expire = onExpire;
    this.hardTimer = setTimeout(() => this.fire(), Math.max(hardLimitMs, this.graceMs));
    this.startClock();
  }

  /** The pipes closed: nothing to wait for any more. */
  cancel(): void {
    this.expire = undefined;
    clearTimeout(this.timer);
    clearTimeout(this.hardTimer);
  }

  private startClock(): void {
    if (this.expire === undefined || this.pausedPipes > 0 || this.runningSince !== undefined) return;
    this.runningSince = performance.now();
    this.timer = setTimeout(() => this.fire(), this.leftMs);
  }

  private stopClock(): void {
    if (this.runningSince === undefined) return;
    this.leftMs = Math.max(0, this.leftMs - (performance.now() - this.runningSince));
    this.runningSince = undefined;
    clearTimeout(this.timer);
  }

  private fire(): void {
    const expire = this.expire;
    this.cancel();
    expire?.();
  }
}
