/**
 * Critical-path scheduling: the stages run in batches, one batch at a time, and inside a batch
 * a stage starts as soon as its own needs have finished, not when a whole wave has.
 *
 * Inside a batch every stage's Map iteration starts at once, and a stage with needs in the same
 * batch waits for them in a callback task (`Wait for needs`, `.waitForTaskToken`). A waiting
 * iteration holds a Map slot. Step Functions does not document the order in which an inline Map
 * starts its iterations, only that it runs at most MaxConcurrency (and at most 40) at once
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html), so a batch
 * whose stages wait on each other is never bigger than the concurrency: then no iteration waits
 * for one that has not started, whatever the order, and the batch cannot deadlock.
 *
 * Batches are whole waves, in order, merged while they fit in `limit` stages. A wave bigger than
 * `limit` is a batch on its own: its stages need only earlier batches, so none waits and the Map
 * may start them in any order (today's wave, `limit` at a time).
 */
import type { DagNode } from './waves.js';

export interface StageInBatch {
  name: string;
  /** A need of this stage is in the same batch: it starts with `Wait for needs`. */
  waits: boolean;
  /** A stage of the same batch needs this one: its end releases them (`Release dependents`). */
  releases: boolean;
}

export interface Batch {
  stages: StageInBatch[];
}

export class BatchLimitInvalid extends Error {
  override readonly name = 'BatchLimitInvalid';
}

/** `waves`: stage names by wave (computeWaves); `limit`: the stage concurrency, 1 to 40. */
export function computeBatches(waves: readonly string[][], nodes: readonly DagNode[], limit: number): Batch[] {
  if (!Number.isInteger(limit) || limit < 1) throw new BatchLimitInvalid(`a batch limit is a positive integer, not ${limit}`);
  const groups: string[][] = [];
  let current: string[] = [];
  for (const wave of waves) {
    if (wave.length === 0) continue;
    if (current.length > 0 && current.length + wave.length > limit) {
      groups.push(current);
      current = [];
    }
    if (wave.length > limit) {
      groups.push([...wave]);
      continue;
    }
    current.push(...wave);
  }
  if (current.length > 0) groups.push(current);

  const needsOf = new Map(nodes.map((node) => [node.name, node.needs]));
  return groups.map((names) => {
    const inBatch = new Set(names);
    const needed = new Set(names.flatMap((name) => (needsOf.get(name) ?? []).filter((need) => inBatch.has(need))));
    return {
      stages: names.map((name) => ({
        name,
        waits: (needsOf.get(name) ?? []).some((need) => inBatch.has(need)),
        releases: needed.has(name),
      })),
    };
  });
}

/** Direct dependents of each stage: who to look at when a stage ends. */
export function dependentsOf(nodes: readonly DagNode[]): Map<string, string[]> {
  const dependents = new Map<string, string[]>(nodes.map((node) => [node.name, []]));
  for (const node of nodes) for (const need of node.needs) dependents.get(need)?.push(node.name);
  return dependents;
}
