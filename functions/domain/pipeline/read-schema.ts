/**
 * The schema pass over a whole pipeline file: the top-level keys, `version`, `defaults`
 * and `stages`, each field read at its position (read-defaults.ts, read-stage.ts and the
 * read-*.ts field readers).
 */
import { readDefaults, type Defaults } from './read-defaults.js';
import { readCost, readOptimize } from './read-cost-fields.js';
import { readStage } from './read-stage.js';
import { DEFAULT_TRIGGERS, readTriggers } from './read-triggers.js';
import type { Pipeline, StageSpec } from './types.js';
import { kindOf, type Field, type YamlReader } from './yaml-reader.js';

export const TOP_LEVEL_KEYS = ['version', 'on', 'fail-fast', 'cancel-superseded', 'optimize', 'cost', 'defaults', 'stages'] as const;

export function readSchema(y: YamlReader): Pipeline {
  const root = y.root;
  if (root.value === null) {
    y.report(root, 'the file is empty; a pipeline file needs at least "version: 1" and "stages"');
  }
  const top = y.entries(root, TOP_LEVEL_KEYS, 'a mapping with version, on, fail-fast, cancel-superseded, optimize, cost, defaults and stages');
  const field = (key: string) => top.find((entry) => entry.key === key);

  readVersion(y, field('version'), root);
  const on = field('on');
  const failFast = field('fail-fast');
  const cancel = field('cancel-superseded');
  const defaults = readDefaults(y, field('defaults'));
  const stages = readStages(y, field('stages'), root, defaults);
  const optimize = field('optimize') && readOptimize(y, field('optimize')!);
  const cost = field('cost') && readCost(y, field('cost')!);
  return {
    version: 1,
    on: on ? readTriggers(y, on) : DEFAULT_TRIGGERS,
    failFast: (failFast && y.boolean(failFast)) ?? false,
    cancelSuperseded: (cancel && y.boolean(cancel)) ?? false,
    stages,
    ...(optimize ? { optimize } : {}),
    ...(cost ? { cost } : {}),
  };
}

function readVersion(y: YamlReader, entry: Field | undefined, root: Field): void {
  if (!entry) {
    if (root.value !== null) y.report({ path: 'version', at: root.at }, 'missing; add "version: 1" (the only format version)');
    return;
  }
  y.record('version', entry, y.scalar(entry));
  if (y.scalar(entry) !== 1) {
    y.report(entry, `version ${kindOf(entry.value)} is not supported; the only format version is 1`);
  }
}

function readStages(y: YamlReader, entry: Field | undefined, root: Field, defaults: Defaults): StageSpec[] {
  if (!entry) {
    if (root.value !== null) y.report({ path: 'stages', at: root.at }, 'missing; add "stages:" with at least one stage');
    return [];
  }
  if (entry.value !== null && y.isList(entry.value)) {
    y.report(entry, 'expected a mapping of stage name to stage (stages:\\n  build:\\n    commands: [...]), got a list');
    return [];
  }
  const stages = y.entries(entry, undefined, 'a mapping of stage name to stage', 'stage name');
  if (entry.value === null || (stages.length === 0 && y.isMapping(entry))) {
    y.report(entry, 'no stages; add at least one stage with commands');
  }
  return stages.map((stage) => readStage(y, stage.key, stage, defaults));
}
