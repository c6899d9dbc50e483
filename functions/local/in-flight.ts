/**
 * The stage runs a local build has started and not yet seen end. A stopped build's interpreter
 * stops at once, while each stage it started is still stopping on its own (its executor got the
 * same signal: it kills the command, uploads what it must and retires its work folder).
 * run-local-build.ts waits for them before it returns, so nothing of a build outlives it and
 * its caller may delete the data directory (a CI flake: ENOTEMPTY while a late folder moved).
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  /** Runs `work`, remembering it until it settles; returns its own promise, rejection included. */
  track<T>(work: () => Promise<T>): Promise<T> {
    const started = work();
    this.running.add(started);
    const forget = () => this.running.delete(started);
    started.then(forget, forget);
    return started;
  }

  /** Settles once everything tracked so far, and anything it started meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
