/**
 * Which of a wave's stages run. A Map iteration cannot see what earlier waves did, so the
 * `Select stages` task reads the earlier result records and decides here: a stage whose direct
 * dependency did not succeed is skipped (a transitively failed dependency was itself recorded as
 * skipped), and with fail-fast every stage after any failure is skipped.
 */
import type { StageStatus } from './types.js';

export interface StageSelectionInput {
  /** The wave's stages with their direct dependencies. */
  wave: { name: string; needs: string[] }[];
  /** Outcomes of the stages of earlier waves; a missing entry means no result was recorded. */
  earlier: Map<string, StageStatus>;
  failFast: boolean;
}

export interface SkippedSelection {
  name: string;
  reason: string;
}

export interface StageSelection {
  run: string[];
  skipped: SkippedSelection[];
}

const FAILED: ReadonlySet<StageStatus> = new Set<StageStatus>(['failed', 'timed_out', 'cancelled']);

function describe(status: StageStatus | undefined): string {
  switch (status) {
    case 'failed':
      return 'failed';
    case 'timed_out':
      return 'timed out';
    case 'cancelled':
      return 'was cancelled';
    case 'skipped':
      return 'was skipped';
    default:
      return 'has no result';
  }
}

export function selectStages(input: StageSelectionInput): StageSelection {
  const run: string[] = [];
  const skipped: SkippedSelection[] = [];
  const firstFailure = input.failFast
    ? [...input.earlier.entries()].find(([, status]) => FAILED.has(status))
    : undefined;
  for (const stage of input.wave) {
    if (firstFailure) {
      skipped.push({ name: stage.name, reason: `fail-fast: ${firstFailure[0]} ${describe(firstFailure[1])}` });
      continue;
    }
    const blocked = stage.needs.filter((need) => input.earlier.get(need) !== 'succeeded');
    if (blocked.length > 0) {
      const why = blocked.map((need) => `${need} ${describe(input.earlier.get(need))}`).join(', ');
      skipped.push({ name: stage.name, reason: `needs ${why}` });
      continue;
    }
    run.push(stage.name);
  }
  return { run, skipped };
}
