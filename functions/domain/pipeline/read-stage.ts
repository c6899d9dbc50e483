/** One stage of a pipeline file: its own fields, or what it inherits from `defaults`. */
import { DEFAULT_RESOURCES, DEFAULT_TIMEOUT_SECONDS } from './limits.js';
import { inheritCacheSites, readCache } from './read-cache.js';
import { isAutoResources } from './read-cost-fields.js';
import { ARCHITECTURES, RUNNERS, type Defaults } from './read-defaults.js';
import { readEnv, readLogLimit, readResources, readSecrets, readTimeout } from './read-fields.js';
import { readCondition } from './read-triggers.js';
import { inheritSite, recordRead } from './schema-sites.js';
import type { StageSpec } from './types.js';
import type { Field, MapEntry, YamlReader } from './yaml-reader.js';

export const STAGE_KEYS = [
  'commands',
  'needs',
  'runner',
  'image',
  'resources',
  'timeout',
  'env',
  'secrets',
  'artifacts',
  'spot',
  'architecture',
  'if',
  'run-as-root',
  'log-limit',
  'cache',
] as const;

export function readStage(y: YamlReader, name: string, entry: MapEntry, defaults: Defaults): StageSpec {
  const base = `stages.${name}`;
  y.record(base, { path: entry.path, value: null, at: entry.keyNode }, name);
  const fields = y.entries(entry, STAGE_KEYS, `a stage: a mapping of ${STAGE_KEYS.join(', ')}`);
  const atName: Field = { path: entry.path, value: entry.value, at: entry.keyNode };
  if (entry.value === null) y.report(atName, 'the stage is empty; it needs "commands" (a list of shell commands)');
  const field = (key: string) => fields.find((f) => f.key === key);

  const commands = readCommands(y, base, field('commands'), atName);
  const needs = (field('needs') && y.stringList(field('needs')!, 'a stage name')) ?? [];

  const resourcesField = field('resources');
  const auto = resourcesField !== undefined && isAutoResources(y, resourcesField);
  if (auto) y.record(`${base}.resources`, resourcesField, 'auto');
  const own = resourcesField && !auto ? readResources(y, `${base}.resources`, resourcesField) : {};
  const resourceKey = (name: 'cpu' | 'memory' | 'disk') => `${base}.resources.${name}`;
  inheritSite(y, resourceKey('cpu'), 'defaults.resources.cpu', own.cpu);
  inheritSite(y, resourceKey('memory'), 'defaults.resources.memory', own.memoryMiB);
  inheritSite(y, resourceKey('disk'), 'defaults.resources.disk', own.diskMiB);
  const cpu = own.cpu ?? defaults.cpu;
  const memoryMiB = own.memoryMiB ?? defaults.memoryMiB;
  const diskMiB = own.diskMiB ?? defaults.diskMiB;

  const runnerField = field('runner');
  const runner = runnerField ? recordRead(y, `${base}.runner`, runnerField, y.choice(runnerField, RUNNERS)) : undefined;
  inheritSite(y, `${base}.runner`, 'defaults.runner', runner);
  const imageField = field('image');
  const image = imageField ? recordRead(y, `${base}.image`, imageField, y.string(imageField, 'an image name such as node:22')) : undefined;
  inheritSite(y, `${base}.image`, 'defaults.image', image);
  const archField = field('architecture');
  const architecture = archField ? recordRead(y, `${base}.architecture`, archField, y.choice(archField, ARCHITECTURES)) : undefined;
  inheritSite(y, `${base}.architecture`, 'defaults.architecture', architecture);
  const timeoutField = field('timeout');
  const timeout = timeoutField ? readTimeout(y, `${base}.timeout`, timeoutField) : undefined;
  inheritSite(y, `${base}.timeout`, 'defaults.timeout', timeout);
  const logLimitField = field('log-limit');
  const logLimit = logLimitField ? readLogLimit(y, `${base}.log-limit`, logLimitField) : undefined;
  inheritSite(y, `${base}.log-limit`, 'defaults.log-limit', logLimit);

  const envField = field('env');
  const env = { ...defaults.env, ...(envField ? readEnv(y, `${base}.env`, envField) : {}) };
  for (const name of Object.keys(defaults.env)) {
    if (!envField || y.sites.get(`${base}.env.${name}`) === undefined) inheritSite(y, `${base}.env.${name}`, `defaults.env.${name}`, undefined);
  }
  const secretsField = field('secrets');
  const artifactsField = field('artifacts');
  const spotField = field('spot');
  const rootField = field('run-as-root');
  const ifField = field('if');

  const spec: StageSpec = {
    name,
    commands,
    needs,
    runner: runner ?? defaults.runner ?? 'auto',
    resources: {
      cpu: cpu ?? DEFAULT_RESOURCES.cpu,
      memoryMiB: memoryMiB ?? DEFAULT_RESOURCES.memoryMiB,
      diskMiB: diskMiB ?? DEFAULT_RESOURCES.diskMiB,
    },
    explicit: { cpu: cpu !== undefined, memory: memoryMiB !== undefined, disk: diskMiB !== undefined },
    timeoutSeconds: timeout ?? defaults.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    env,
    secrets: secretsField ? readSecrets(y, `${base}.secrets`, secretsField) : {},
    artifacts: (artifactsField && y.stringList(artifactsField, 'a glob relative to the workspace')) ?? [],
    spot: (spotField && recordRead(y, `${base}.spot`, spotField, y.boolean(spotField))) ?? false,
    architecture: architecture ?? defaults.architecture ?? 'x86_64',
    runAsRoot: (rootField && recordRead(y, `${base}.run-as-root`, rootField, y.boolean(rootField))) ?? false,
  };
  const effectiveImage = image ?? defaults.image;
  if (effectiveImage !== undefined) spec.image = effectiveImage;
  if (ifField) spec.if = readCondition(y, ifField);
  const logLimitMiB = logLimit ?? defaults.logLimitMiB;
  if (logLimitMiB !== undefined) spec.logLimitBytes = logLimitMiB * 1024 * 1024;
  if (auto) spec.resourcesAuto = true;
  const cacheField = field('cache');
  const cache = cacheField ? readCache(y, `${base}.cache`, cacheField) : defaults.cache;
  if (!cacheField && cache) inheritCacheSites(y, `${base}.cache`, cache);
  if (cache) spec.cache = cache;
  return spec;
}

function readCommands(y: YamlReader, base: string, entry: Field | undefined, stage: Field): string[] {
  if (!entry) {
    if (stage.value !== null && y.isMapping(stage) && !y.wasSuggested(stage.path, 'commands')) {
      y.report(stage, 'missing "commands"; a stage needs at least one shell command');
    }
    return [];
  }
  const node = entry.value;
  if (node !== null && y.isMapping(entry)) {
    y.report(entry, 'expected a shell command or a list of them, got a mapping (quote a command that contains ": ")');
    return [];
  }
  const items = y.items(entry);
  if (items) {
    const commands: string[] = [];
    for (const item of items) {
      if (item.value !== null && y.isMapping(item)) {
        y.report(item, 'expected a shell command, got a mapping (quote a command that contains ": ")');
        continue;
      }
      const command = y.text(item, 'a shell command');
      if (command !== undefined) commands.push(command);
    }
    if (items.length === 0) y.report(entry, 'must list at least one shell command');
    return commands;
  }
  if (node === null) {
    y.report(entry, 'must list at least one shell command');
    return [];
  }
  const one = y.text(entry, 'a shell command');
  y.record(`${base}.commands`, entry, one);
  return one === undefined ? [] : [one];
}
