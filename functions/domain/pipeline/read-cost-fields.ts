/**
 * The pipeline file's cost settings: top-level `optimize:` (what runner choice weighs; overrides
 * the farm's setting) and `cost:` (`pr-threshold: 25%`, the pull request cost check's limit).
 * docs/pipeline-file.md documents both.
 */
import type { Field, YamlReader } from './yaml-reader.js';
import { kindOf } from './yaml-reader.js';
import { parsePercent } from './percent.js';

export const OPTIMIZE_CHOICES = ['cost', 'time', 'balanced'] as const;
export const COST_KEYS = ['pr-threshold'] as const;

export function readOptimize(y: YamlReader, entry: Field): (typeof OPTIMIZE_CHOICES)[number] | undefined {
  const value = y.choice(entry, OPTIMIZE_CHOICES);
  if (value !== undefined) y.record('optimize', entry, value);
  return value;
}

export function readCost(y: YamlReader, entry: Field): { prThresholdPercent?: number } {
  const cost: { prThresholdPercent?: number } = {};
  for (const field of y.entries(entry, COST_KEYS, 'a mapping of pr-threshold')) {
    const raw = y.scalar(field);
    const percent = parsePercent(raw);
    if (!percent.ok) {
      y.report(field, `expected a percentage such as 25% (0 or more), got ${kindOf(field.value)}`);
      continue;
    }
    y.record('cost.pr-threshold', field, raw);
    cost.prThresholdPercent = percent.value;
  }
  return cost;
}

/** `resources: auto`: the planner sizes the stage from its measured peaks. */
export function isAutoResources(y: YamlReader, entry: Field): boolean {
  return y.scalar(entry) === 'auto';
}
