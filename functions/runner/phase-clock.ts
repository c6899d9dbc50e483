/**
 * Times the phases of a stage for its result (domain/report/stage-phases.ts), so a slow
 * build shows whether the time went to the commands or to the farm around them.
 */
import type { StagePhase, StagePhases } from '../domain/report/stage-phases.js';

export class PhaseClock {
  readonly #phases: StagePhases = {};
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Adds `ms` to a phase (a phase can be timed in several pieces: one per command). */
  add(phase: StagePhase, ms: number): void {
    this.#phases[phase] = (this.#phases[phase] ?? 0) + Math.max(0, Math.round(ms));
  }

  /** Awaits `work` and adds the time it took to `phase`, whether it succeeded or failed. */
  async time<T>(phase: StagePhase, work: () => Promise<T>): Promise<T> {
    const started = this.#now();
    try {
      return await work();
    } finally {
      this.add(phase, this.#now() - started);
    }
  }

  get phases(): StagePhases {
    return { ...this.#phases };
  }
}
