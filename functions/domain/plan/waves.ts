/**
 * Stages form a DAG through `needs`; a wave holds the stages whose needs are all
 * in earlier waves (Kahn's algorithm, level by level). Within a wave, file order.
 */

export interface DagNode {
  name: string;
  needs: string[];
}

export class DependencyCycle extends Error {
  override readonly name = 'DependencyCycle';
  constructor(readonly stages: string[]) {
    super(`stages form a cycle: ${stages.join(' -> ')}`);
  }
}

export function computeWaves(nodes: DagNode[]): string[][] {
  const remaining = new Map(nodes.map((n) => [n.name, new Set(n.needs)]));
  const waves: string[][] = [];
  const done = new Set<string>();
  while (remaining.size > 0) {
    const wave = [...remaining].filter(([, needs]) => [...needs].every((n) => done.has(n))).map(([name]) => name);
    if (wave.length === 0) throw new DependencyCycle(findCycle(remaining));
    for (const name of wave) {
      remaining.delete(name);
      done.add(name);
    }
    waves.push(wave);
  }
  return waves;
}

/** Every stage `name` depends on, directly or through others, in wave order of discovery. */
export function upstreamOf(name: string, needsOf: Map<string, string[]>): string[] {
  const seen = new Set<string>();
  const stack = [...(needsOf.get(name) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(needsOf.get(next) ?? []));
  }
  return [...seen].sort();
}

function findCycle(remaining: Map<string, Set<string>>): string[] {
  // Walk needs from any remaining stage until a stage repeats: that loop is a cycle.
  const start = [...remaining.keys()][0];
  const path: string[] = [];
  const index = new Map<string, number>();
  let current: string | undefined = start;
  while (current !== undefined && !index.has(current)) {
    index.set(current, path.length);
    path.push(current);
    current = [...(remaining.get(current) ?? [])].find((n) => remaining.has(n));
  }
  if (current === undefined) return path;
  return [...path.slice(index.get(current)), current];
}
