import { PipelineInvalid, type PipelineIssue } from '../errors.js';
import type { FieldSites } from './field-sites.js';
import { DEFAULT_RESOURCES, DEFAULT_TIMEOUT_SECONDS } from './limits.js';
import { lintPipeline } from './lint.js';
import { inheritCacheSites, readCache } from './read-cache.js';
import { readEnv, readLogLimit, readResources, readSecrets, readTimeout } from './read-fields.js';
import { isAutoResources, readCost, readOptimize } from './read-cost-fields.js';
import { DEFAULT_TRIGGERS, readCondition, readTriggers } from './read-triggers.js';
import type { Architecture, CacheSpec, Pipeline, RunnerChoice, StageSpec } from './types.js';
import { loadYaml } from './load-yaml.js';
import { kindOf, type Field, type MapEntry, type YamlReader } from './yaml-reader.js';

/**
 * The schema of `.buildfarm.yml` (documented field by field in
 * docs/pipeline-file.md): YAML in, a normalised `Pipeline` out, with every
 * problem reported at its line and column. Checks that need the whole
 * pipeline (needs, cycles, sizes, runner limits) live in lint.ts.
 */

export const TOP_LEVEL_KEYS = ['version', 'on', 'fail-fast', 'cancel-superseded', 'optimize', 'cost', 'defaults', 'stages'] as const;
export const DEFAULTS_KEYS = ['image', 'resources', 'timeout', 'env', 'architecture', 'runner', 'log-limit', 'cache'] as const;
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
const RUNNERS: readonly RunnerChoice[] = ['auto', 'lambda', 'fargate'];
const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'arm64'];

export interface PipelineReading {
  /** Absent only when the file is not readable YAML at all (syntax, size, bombs). */
  pipeline?: Pipeline;
  /** Where every field was written, for lint. */
  sites?: FieldSites;
  /** Schema problems; lint adds its own. */
  issues: PipelineIssue[];
}

/**
 * Parses and lints a pipeline file. Throws `PipelineInvalid` carrying every
 * issue found (schema and lint), sorted by position; its message is the
 * formatted list, meant to be printed without a stack trace.
 */
export function parsePipeline(text: string, file = '.buildfarm.yml'): Pipeline {
  return parsePipelineWithSites(text, file).pipeline;
}

/**
 * `parsePipeline`, also returning where each field was written, so later
 * checks (the planner's) can point at a line: pass
 * `(path) => sites.locate(path)` as the planner's `locate`.
 */
export function parsePipelineWithSites(text: string, file = '.buildfarm.yml'): { pipeline: Pipeline; sites: FieldSites } {
  const reading = readPipeline(text, file);
  const issues = [...reading.issues];
  if (reading.pipeline && reading.sites) issues.push(...lintPipeline(reading.pipeline, reading.sites));
  const unique = dedupe(issues).sort((a, b) => a.line - b.line || a.column - b.column);
  if (unique.length > 0 || !reading.pipeline || !reading.sites) throw new PipelineInvalid(unique);
  return { pipeline: reading.pipeline, sites: reading.sites };
}

/**
 * Schema pass only: builds the best pipeline it can (a bad field falls back
 * to its default) so lint can still run and the user sees every problem at once.
 */
export function readPipeline(text: string, file = '.buildfarm.yml'): PipelineReading {
  const loaded = loadYaml(text, file);
  if (!loaded.ok) return { issues: loaded.issues };
  const reader = loaded.reader;
  const pipeline = new SchemaReader(reader).pipeline();
  return { pipeline, sites: reader.sites, issues: reader.issues };
}

interface Defaults {
  image?: string;
  runner?: RunnerChoice;
  architecture?: Architecture;
  timeoutSeconds?: number;
  cpu?: number;
  memoryMiB?: number;
  diskMiB?: number;
  logLimitMiB?: number;
  env: Record<string, string>;
  cache?: CacheSpec;
}

class SchemaReader {
  constructor(private readonly y: YamlReader) {}

  pipeline(): Pipeline {
    const root = this.y.root;
    if (root.value === null) {
      this.y.report(root, 'the file is empty; a pipeline file needs at least "version: 1" and "stages"');
    }
    const top = this.y.entries(root, TOP_LEVEL_KEYS, 'a mapping with version, on, fail-fast, cancel-superseded, optimize, cost, defaults and stages');
    const field = (key: string) => top.find((entry) => entry.key === key);

    this.version(field('version'), root);
    const on = field('on');
    const failFast = field('fail-fast');
    const cancel = field('cancel-superseded');
    const defaults = this.defaults(field('defaults'));
    const stages = this.stages(field('stages'), root, defaults);
    const optimize = field('optimize') && readOptimize(this.y, field('optimize')!);
    const cost = field('cost') && readCost(this.y, field('cost')!);
    return {
      version: 1,
      on: on ? readTriggers(this.y, on) : DEFAULT_TRIGGERS,
      failFast: (failFast && this.y.boolean(failFast)) ?? false,
      cancelSuperseded: (cancel && this.y.boolean(cancel)) ?? false,
      stages,
      ...(optimize ? { optimize } : {}),
      ...(cost ? { cost } : {}),
    };
  }

  private version(entry: Field | undefined, root: Field): void {
    if (!entry) {
      if (root.value !== null) this.y.report({ path: 'version', at: root.at }, 'missing; add "version: 1" (the only format version)');
      return;
    }
    this.y.record('version', entry, this.y.scalar(entry));
    if (this.y.scalar(entry) !== 1) {
      this.y.report(entry, `version ${kindOf(entry.value)} is not supported; the only format version is 1`);
    }
  }

  private defaults(entry: Field | undefined): Defaults {
    const defaults: Defaults = { env: {} };
    if (!entry) return defaults;
    for (const field of this.y.entries(entry, DEFAULTS_KEYS, 'a mapping of image, resources, timeout, env, architecture, runner, log-limit and cache')) {
      const key = field.path;
      switch (field.key) {
        case 'image':
          defaults.image = this.record(key, field, this.y.string(field, 'an image name such as node:22 or public.ecr.aws/docker/library/node:22'));
          break;
        case 'runner':
          defaults.runner = this.record(key, field, this.y.choice(field, RUNNERS));
          break;
        case 'architecture':
          defaults.architecture = this.record(key, field, this.y.choice(field, ARCHITECTURES));
          break;
        case 'timeout':
          defaults.timeoutSeconds = readTimeout(this.y, key, field);
          break;
        case 'log-limit':
          defaults.logLimitMiB = readLogLimit(this.y, key, field);
          break;
        case 'resources':
          Object.assign(defaults, readResources(this.y, key, field));
          break;
        case 'env':
          defaults.env = readEnv(this.y, key, field);
          break;
        case 'cache':
          defaults.cache = readCache(this.y, key, field);
          break;
      }
    }
    return defaults;
  }

  private stages(entry: Field | undefined, root: Field, defaults: Defaults): StageSpec[] {
    if (!entry) {
      if (root.value !== null) this.y.report({ path: 'stages', at: root.at }, 'missing; add "stages:" with at least one stage');
      return [];
    }
    if (entry.value !== null && this.y.isList(entry.value)) {
      this.y.report(entry, 'expected a mapping of stage name to stage (stages:\\n  build:\\n    commands: [...]), got a list');
      return [];
    }
    const stages = this.y.entries(entry, undefined, 'a mapping of stage name to stage', 'stage name');
    if (entry.value === null || (stages.length === 0 && this.y.isMapping(entry))) {
      this.y.report(entry, 'no stages; add at least one stage with commands');
    }
    return stages.map((stage) => this.stage(stage.key, stage, defaults));
  }

  private stage(name: string, entry: MapEntry, defaults: Defaults): StageSpec {
    const base = `stages.${name}`;
    this.y.record(base, { path: entry.path, value: null, at: entry.keyNode }, name);
    const fields = this.y.entries(entry, STAGE_KEYS, `a stage: a mapping of ${STAGE_KEYS.join(', ')}`);
    const atName: Field = { path: entry.path, value: entry.value, at: entry.keyNode };
    if (entry.value === null) this.y.report(atName, 'the stage is empty; it needs "commands" (a list of shell commands)');
    const field = (key: string) => fields.find((f) => f.key === key);

    const commands = this.commands(base, field('commands'), atName);
    const needs = (field('needs') && this.y.stringList(field('needs')!, 'a stage name')) ?? [];

    const resourcesField = field('resources');
    const auto = resourcesField !== undefined && isAutoResources(this.y, resourcesField);
    if (auto) this.y.record(`${base}.resources`, resourcesField, 'auto');
    const own = resourcesField && !auto ? readResources(this.y, `${base}.resources`, resourcesField) : {};
    const resourceKey = (name: 'cpu' | 'memory' | 'disk') => `${base}.resources.${name}`;
    this.inherit(resourceKey('cpu'), 'defaults.resources.cpu', own.cpu);
    this.inherit(resourceKey('memory'), 'defaults.resources.memory', own.memoryMiB);
    this.inherit(resourceKey('disk'), 'defaults.resources.disk', own.diskMiB);
    const cpu = own.cpu ?? defaults.cpu;
    const memoryMiB = own.memoryMiB ?? defaults.memoryMiB;
    const diskMiB = own.diskMiB ?? defaults.diskMiB;

    const runnerField = field('runner');
    const runner = runnerField ? this.record(`${base}.runner`, runnerField, this.y.choice(runnerField, RUNNERS)) : undefined;
    this.inherit(`${base}.runner`, 'defaults.runner', runner);
    const imageField = field('image');
    const image = imageField ? this.record(`${base}.image`, imageField, this.y.string(imageField, 'an image name such as node:22')) : undefined;
    this.inherit(`${base}.image`, 'defaults.image', image);
    const archField = field('architecture');
    const architecture = archField ? this.record(`${base}.architecture`, archField, this.y.choice(archField, ARCHITECTURES)) : undefined;
    this.inherit(`${base}.architecture`, 'defaults.architecture', architecture);
    const timeoutField = field('timeout');
    const timeout = timeoutField ? readTimeout(this.y, `${base}.timeout`, timeoutField) : undefined;
    this.inherit(`${base}.timeout`, 'defaults.timeout', timeout);
    const logLimitField = field('log-limit');
    const logLimit = logLimitField ? readLogLimit(this.y, `${base}.log-limit`, logLimitField) : undefined;
    this.inherit(`${base}.log-limit`, 'defaults.log-limit', logLimit);

    const envField = field('env');
    const env = { ...defaults.env, ...(envField ? readEnv(this.y, `${base}.env`, envField) : {}) };
    for (const name of Object.keys(defaults.env)) {
      if (!envField || this.y.sites.get(`${base}.env.${name}`) === undefined) this.inherit(`${base}.env.${name}`, `defaults.env.${name}`, undefined);
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
      secrets: secretsField ? readSecrets(this.y, `${base}.secrets`, secretsField) : {},
      artifacts: (artifactsField && this.y.stringList(artifactsField, 'a glob relative to the workspace')) ?? [],
      spot: (spotField && this.record(`${base}.spot`, spotField, this.y.boolean(spotField))) ?? false,
      architecture: architecture ?? defaults.architecture ?? 'x86_64',
      runAsRoot: (rootField && this.record(`${base}.run-as-root`, rootField, this.y.boolean(rootField))) ?? false,
    };
    const effectiveImage = image ?? defaults.image;
    if (effectiveImage !== undefined) spec.image = effectiveImage;
    if (ifField) spec.if = readCondition(this.y, ifField);
    const logLimitMiB = logLimit ?? defaults.logLimitMiB;
    if (logLimitMiB !== undefined) spec.logLimitBytes = logLimitMiB * 1024 * 1024;
    if (auto) spec.resourcesAuto = true;
    const cacheField = field('cache');
    const cache = cacheField ? readCache(this.y, `${base}.cache`, cacheField) : defaults.cache;
    if (!cacheField && cache) inheritCacheSites(this.y, `${base}.cache`, cache);
    if (cache) spec.cache = cache;
    return spec;
  }

  private commands(base: string, entry: Field | undefined, stage: Field): string[] {
    if (!entry) {
      if (stage.value !== null && this.y.isMapping(stage) && !this.y.wasSuggested(stage.path, 'commands')) {
        this.y.report(stage, 'missing "commands"; a stage needs at least one shell command');
      }
      return [];
    }
    const node = entry.value;
    if (node !== null && this.y.isMapping(entry)) {
      this.y.report(entry, 'expected a shell command or a list of them, got a mapping (quote a command that contains ": ")');
      return [];
    }
    const items = this.y.items(entry);
    if (items) {
      const commands: string[] = [];
      for (const item of items) {
        if (item.value !== null && this.y.isMapping(item)) {
          this.y.report(item, 'expected a shell command, got a mapping (quote a command that contains ": ")');
          continue;
        }
        const command = this.y.text(item, 'a shell command');
        if (command !== undefined) commands.push(command);
      }
      if (items.length === 0) this.y.report(entry, 'must list at least one shell command');
      return commands;
    }
    if (node === null) {
      this.y.report(entry, 'must list at least one shell command');
      return [];
    }
    const one = this.y.text(entry, 'a shell command');
    this.y.record(`${base}.commands`, entry, one);
    return one === undefined ? [] : [one];
  }

  /** Records the site of a value that was read (undefined values are not recorded). */
  private record<T>(key: string, field: Field, value: T | undefined): T | undefined {
    if (value !== undefined) this.y.record(key, field, value);
    return value;
  }

  /** A stage field left unset points at the `defaults` line it inherits. */
  private inherit(stageKey: string, defaultsKey: string, own: unknown): void {
    if (own !== undefined) return;
    const site = this.y.sites.get(defaultsKey);
    if (site) this.y.sites.set(stageKey, site);
  }
}

function dedupe(issues: PipelineIssue[]): PipelineIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
