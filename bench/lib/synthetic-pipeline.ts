/**
 * A generated pipeline of many stages with a realistic mix, and a synthetic history of
 * earlier runs for each stage, so the planner chooses runners from measured durations (as
 * it does for a repository it has built before) rather than from timeouts.
 *
 * The mix (by share of stages), chosen to resemble a large monorepo's CI:
 * - 30 % lint and format checks: 1 vCPU / 2 GiB, 5 to 40 s;
 * - 25 % unit test suites: 1 vCPU / 2 GiB, 40 s to 3 min;
 * - 20 % compiles: 2 vCPU / 4 GiB, 2 to 6 min;
 * - 15 % container stages (an image: Fargate by necessity): 1 to 8 min;
 * - 10 % long integration suites (timeout 45m: over Lambda's 15 min): 15 to 30 min.
 * Stages come in layers of 50; each stage after the first layer needs one or two stages of
 * the layer before. A seeded generator makes every run plan the same pipeline.
 */
import type { StageHistory } from '../../functions/domain/plan/types.js';
import { seededRandom } from './seeded-random.js';

export const PIPELINE_LAYER_SIZE = 50;

interface Kind {
  name: string;
  share: number;
  yaml: string[];
  minSeconds: number;
  maxSeconds: number;
  memoryMiB: number;
}

const KINDS: Kind[] = [
  { name: 'lint', share: 0.3, yaml: ['timeout: 5m', 'resources: { cpu: 1, memory: 2GiB }'], minSeconds: 5, maxSeconds: 40, memoryMiB: 2048 },
  { name: 'unit', share: 0.25, yaml: ['timeout: 10m', 'resources: { cpu: 1, memory: 2GiB }'], minSeconds: 40, maxSeconds: 180, memoryMiB: 2048 },
  { name: 'compile', share: 0.2, yaml: ['timeout: 12m', 'resources: { cpu: 2, memory: 4GiB }'], minSeconds: 120, maxSeconds: 360, memoryMiB: 4096 },
  { name: 'image', share: 0.15, yaml: ['image: public.ecr.aws/docker/library/node:22', 'timeout: 20m', 'resources: { cpu: 2, memory: 4GiB }'], minSeconds: 60, maxSeconds: 480, memoryMiB: 4096 },
  { name: 'integration', share: 0.1, yaml: ['timeout: 45m', 'resources: { cpu: 4, memory: 8GiB }'], minSeconds: 900, maxSeconds: 1800, memoryMiB: 8192 },
];

function kindFor(random: number): Kind {
  let sum = 0;
  for (const kind of KINDS) {
    sum += kind.share;
    if (random < sum) return kind;
  }
  return KINDS[KINDS.length - 1];
}

export interface SyntheticPipeline {
  text: string;
  history: Record<string, StageHistory>;
  /** Stages per kind. */
  mix: Record<string, number>;
}

export function syntheticPipeline(stageCount: number, seed = 42): SyntheticPipeline {
  const random = seededRandom(seed);
  const lines = ['version: 1', 'defaults:', '  env: { CI: "true" }', 'stages:'];
  const history: Record<string, StageHistory> = {};
  const mix: Record<string, number> = {};
  const names: string[] = [];
  for (let i = 0; i < stageCount; i += 1) {
    const kind = kindFor(random());
    const name = `${kind.name}-${String(i).padStart(4, '0')}`;
    names.push(name);
    mix[kind.name] = (mix[kind.name] ?? 0) + 1;
    lines.push(`  ${name}:`);
    const layer = Math.floor(i / PIPELINE_LAYER_SIZE);
    if (layer > 0) {
      const previous = names.slice((layer - 1) * PIPELINE_LAYER_SIZE, layer * PIPELINE_LAYER_SIZE);
      const needs = new Set([previous[Math.floor(random() * previous.length)], previous[Math.floor(random() * previous.length)]]);
      lines.push(`    needs: [${[...needs].join(', ')}]`);
    }
    for (const field of kind.yaml) lines.push(`    ${field}`);
    lines.push(`    commands: [make ${kind.name} TARGET=${i}]`);
    if (kind.name === 'compile') lines.push('    artifacts: [dist/**]');

    // Five earlier runs within +-15 % of a typical duration for the stage.
    const typicalMs = (kind.minSeconds + random() * (kind.maxSeconds - kind.minSeconds)) * 1000;
    history[name] = {
      durationsMs: Array.from({ length: 5 }, () => Math.round(typicalMs * (0.85 + random() * 0.3))),
      peakMemoryMiB: Math.round(kind.memoryMiB * (0.3 + random() * 0.3)),
      peakDiskMiB: Math.round(50 + random() * 250),
      escalated: false,
    };
  }
  return { text: `${lines.join('\n')}\n`, history, mix };
}
