/**
 * Where a `buildfarm run`'s wall time went, from its report: each stage's phases
 * (runner/phase-clock.ts) summed, the time between stages (the build less its critical
 * path of stage times), and the CLI's own (wall time less the build).
 */
import type { StagePhases } from '../../functions/domain/report/stage-phases.js';
import type { BuildReport, StageReport } from '../../functions/domain/report/types.js';

export interface FarmBreakdown {
  /** Each phase summed over the stages (0 where none had it). */
  phases: Required<StagePhases>;
  /** Stage time in no phase: uploads of the log and result, the agent's set-up. */
  stageOtherMs: number;
  /** The longest chain of stage times along the run's start and finish times. */
  criticalPathMs: number;
  /** The build less its critical path: plan, state machine, scheduling, report. */
  orchestrationMs: number;
  /** The wall time less the build. */
  fixedMs: number;
  /** The first cached stage's cache result (hit, fallback, miss), or `none`. */
  cacheResult: string;
}

const PHASES: Array<keyof StagePhases> = ['snapshotMs', 'artifactsInMs', 'cacheRestoreMs', 'commandsMs', 'sandboxStartMs', 'artifactsOutMs', 'cacheSaveMs'];

/**
 * The critical path from the stages' own times: a stage's chain is its duration plus the
 * longest chain among the stages that finished before it started (what it may have waited for).
 */
export function criticalPathMs(stages: readonly Pick<StageReport, 'durationMs' | 'startedAt' | 'finishedAt'>[]): number {
  const timed = stages
    .filter((stage) => stage.startedAt && stage.finishedAt)
    .map((stage) => ({ start: Date.parse(stage.startedAt!), end: Date.parse(stage.finishedAt!), ms: stage.durationMs }))
    .sort((a, b) => a.start - b.start);
  const chain: number[] = [];
  timed.forEach((stage, index) => {
    const before = timed.slice(0, index).map((other, j) => (other.end <= stage.start ? chain[j] : 0));
    chain.push(stage.ms + Math.max(0, ...before));
  });
  return Math.max(0, ...chain);
}

export function farmBreakdown(report: BuildReport, wallMs: number): FarmBreakdown {
  const phases = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Required<StagePhases>;
  let inPhases = 0;
  for (const stage of report.stages) {
    for (const phase of PHASES) phases[phase] += stage.phases?.[phase] ?? 0;
    // sandboxStartMs is part of commandsMs.
    inPhases += PHASES.filter((phase) => phase !== 'sandboxStartMs').reduce((sum, phase) => sum + (stage.phases?.[phase] ?? 0), 0);
  }
  const stageMs = report.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
  const critical = criticalPathMs(report.stages);
  return {
    phases,
    stageOtherMs: Math.max(0, stageMs - inPhases),
    criticalPathMs: critical,
    orchestrationMs: Math.max(0, report.durationMs - critical),
    fixedMs: Math.max(0, wallMs - report.durationMs),
    cacheResult: report.stages.find((stage) => stage.cache)?.cache?.result ?? 'none',
  };
}
