import { isMap } from 'yaml';
import { PipelineInvalid, type PipelineIssue } from '../errors.js';
import type { FieldSites } from './field-sites.js';
import { DEFAULT_RESOURCES, DEFAULT_TIMEOUT_SECONDS } from './limits.js';
import { lintPipeline } from './lint.js';
import { parseSecretRef } from './secret-ref.js';
import type {
  Architecture,
  EventName,
  Pipeline,
  RunnerChoice,
  SecretRef,
  StageCondition,
  StageSpec,
  TriggerFilter,
  Triggers,
} from './types.js';
import { parseDuration, parseSize } from './units.js';
import { loadYaml, type Field, type MapEntry, type YamlReader } from './yaml-reader.js';

/**
 * The schema of `.buildfarm.yml` (documented field by field in
 * docs/pipeline-file.md): YAML in, a normalised `Pipeline` out, with every
 * problem reported at its line and column. Checks that need the whole
 * pipeline (needs, cycles, sizes, runner limits) live in lint.ts.
 */

export const TOP_LEVEL_KEYS = ['version', 'on', 'fail-fast', 'cancel-superseded', 'defaults', 'stages'] as const;
export const DEFAULTS_KEYS = ['image', 'resources', 'timeout', 'env', 'architecture', 'runner'] as const;
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
] as const;
export const RESOURCE_KEYS = ['cpu', 'memory', 'disk'] as const;
export const TRIGGER_KEYS = ['branches', 'branches-ignore', 'paths', 'paths-ignore'] as const;
export const CONDITION_KEYS = ['event', 'branch'] as const;
const EVENTS: readonly EventName[] = ['push', 'pull_request'];
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
  const reading = readPipeline(text, file);
  const issues = [...reading.issues];
  if (reading.pipeline && reading.sites) issues.push(...lintPipeline(reading.pipeline, reading.sites));
  const unique = dedupe(issues).sort((a, b) => a.line - b.line || a.column - b.column);
  if (unique.length > 0 || !reading.pipeline) throw new PipelineInvalid(unique);
  return reading.pipeline;
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
  env: Record<string, string>;
}

class SchemaReader {
  constructor(private readonly y: YamlReader) {}

  pipeline(): Pipeline {
    const root = this.y.root;
    if (root.value === null) {
      this.y.report(root, 'the file is empty; a pipeline file needs at least "version: 1" and "stages"');
    }
    const top = this.y.entries(root, TOP_LEVEL_KEYS, 'a mapping with version, on, fail-fast, cancel-superseded, defaults and stages');
    const field = (key: string) => top.find((entry) => entry.key === key);

    this.version(field('version'), root);
    const on = field('on');
    const failFast = field('fail-fast');
    const cancel = field('cancel-superseded');
    const defaults = this.defaults(field('defaults'));
    const stages = this.stages(field('stages'), root, defaults);
    return {
      version: 1,
      on: on ? this.triggers(on) : { push: {}, pull_request: {} },
      failFast: (failFast && this.y.boolean(failFast)) ?? false,
      cancelSuperseded: (cancel && this.y.boolean(cancel)) ?? false,
      stages,
    };
  }

  private version(entry: Field | undefined, root: Field): void {
    if (!entry) {
      if (root.value !== null) this.y.report({ path: 'version', at: root.at }, 'missing; add "version: 1" (the only format version)');
      return;
    }
    this.y.record('version', entry, this.y.scalar(entry));
    if (this.y.scalar(entry) !== 1) {
      this.y.report(entry, `version ${this.describeScalar(entry)} is not supported; the only format version is 1`);
    }
  }

  private triggers(entry: Field): Triggers {
    const value = entry.value;
    // GitHub-style shorthands: `on: push` and `on: [push, pull_request]`.
    if (value !== null && !this.isMapping(entry)) {
      const names = this.y.stringList(entry, 'an event name (push or pull_request)') ?? [];
      const triggers: Triggers = {};
      this.y.items(entry)?.forEach((item, index) => this.checkEvent(item, names[index]));
      if (!this.y.isList(value)) this.checkEvent(entry, names[0]);
      for (const name of names) if ((EVENTS as readonly string[]).includes(name)) triggers[name as EventName] = {};
      return triggers;
    }
    const triggers: Triggers = {};
    for (const event of this.y.entries(entry, EVENTS, 'a mapping of push and/or pull_request to filters')) {
      triggers[event.key as EventName] = this.filter(event);
    }
    if (value === null || (isEmptyMapping(value) && Object.keys(triggers).length === 0)) {
      this.y.report(entry, 'lists no events, so nothing would ever build; list push and/or pull_request, or remove "on" to build on both');
    }
    return triggers;
  }

  private checkEvent(field: Field, name: string | undefined): void {
    if (name !== undefined && !(EVENTS as readonly string[]).includes(name)) {
      this.y.report(field, `unknown event ${JSON.stringify(name)}; allowed events: ${EVENTS.join(', ')}`);
    }
  }

  private filter(entry: Field): TriggerFilter {
    const filter: TriggerFilter = {};
    const fields = this.y.entries(entry, TRIGGER_KEYS, 'a mapping of branches, branches-ignore, paths and paths-ignore');
    for (const field of fields) {
      const globs = this.y.stringList(field, 'a glob') ?? [];
      if (field.key === 'branches') filter.branches = globs;
      if (field.key === 'branches-ignore') filter.branchesIgnore = globs;
      if (field.key === 'paths') filter.paths = globs;
      if (field.key === 'paths-ignore') filter.pathsIgnore = globs;
    }
    // GitHub Actions has the same rule: a filter and its -ignore twin contradict each other.
    for (const [positive, negative] of [
      ['branches', 'branches-ignore'],
      ['paths', 'paths-ignore'],
    ] as const) {
      const clash = fields.find((field) => field.key === negative);
      if (clash && fields.some((field) => field.key === positive)) {
        this.y.report(
          { path: clash.path, at: clash.keyNode },
          `use either ${positive} or ${negative}, not both; to exclude inside ${positive}, prefix a pattern with "!"`,
        );
      }
    }
    return filter;
  }

  private defaults(entry: Field | undefined): Defaults {
    const defaults: Defaults = { env: {} };
    if (!entry) return defaults;
    for (const field of this.y.entries(entry, DEFAULTS_KEYS, 'a mapping of image, resources, timeout, env, architecture and runner')) {
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
          defaults.timeoutSeconds = this.timeout(key, field);
          break;
        case 'resources':
          Object.assign(defaults, this.resources(key, field));
          break;
        case 'env':
          defaults.env = this.env(key, field);
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
    if (entry.value === null || (stages.length === 0 && this.isMapping(entry))) {
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

    const own = this.stageResources(`${base}.resources`, field('resources'));
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
    const timeout = timeoutField ? this.timeout(`${base}.timeout`, timeoutField) : undefined;
    this.inherit(`${base}.timeout`, 'defaults.timeout', timeout);

    const envField = field('env');
    const env = { ...defaults.env, ...(envField ? this.env(`${base}.env`, envField) : {}) };
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
      secrets: secretsField ? this.secrets(`${base}.secrets`, secretsField) : {},
      artifacts: (artifactsField && this.y.stringList(artifactsField, 'a glob relative to the workspace')) ?? [],
      spot: (spotField && this.record(`${base}.spot`, spotField, this.y.boolean(spotField))) ?? false,
      architecture: architecture ?? defaults.architecture ?? 'x86_64',
      runAsRoot: (rootField && this.record(`${base}.run-as-root`, rootField, this.y.boolean(rootField))) ?? false,
    };
    const effectiveImage = image ?? defaults.image;
    if (effectiveImage !== undefined) spec.image = effectiveImage;
    if (ifField) spec.if = this.condition(ifField);
    return spec;
  }

  private commands(base: string, entry: Field | undefined, stage: Field): string[] {
    if (!entry) {
      if (stage.value !== null && this.isMapping(stage) && !this.y.wasSuggested(stage.path, 'commands')) {
        this.y.report(stage, 'missing "commands"; a stage needs at least one shell command');
      }
      return [];
    }
    const node = entry.value;
    if (node !== null && this.isMapping(entry)) {
      this.y.report(entry, 'expected a shell command or a list of them, got a mapping (quote a command that contains ": ")');
      return [];
    }
    const items = this.y.items(entry);
    if (items) {
      const commands: string[] = [];
      for (const item of items) {
        if (item.value !== null && this.isMapping(item)) {
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

  private stageResources(key: string, entry: Field | undefined): { cpu?: number; memoryMiB?: number; diskMiB?: number } {
    return entry ? this.resources(key, entry) : {};
  }

  private resources(key: string, entry: Field): { cpu?: number; memoryMiB?: number; diskMiB?: number } {
    const result: { cpu?: number; memoryMiB?: number; diskMiB?: number } = {};
    for (const field of this.y.entries(entry, RESOURCE_KEYS, 'a mapping of cpu, memory and disk')) {
      const raw = this.y.scalar(field);
      if (field.key === 'cpu') {
        if (typeof raw === 'number' && Number.isFinite(raw)) {
          result.cpu = raw;
          this.y.record(`${key}.cpu`, field, raw);
        } else {
          this.y.report(field, `expected a number of vCPU such as 0.25, 0.5, 1, 2 or 4 (0.25 to 16), got ${this.describeScalar(field)}`);
        }
        continue;
      }
      const size = parseSize(raw);
      if (!size.ok) {
        this.y.report(field, size.message);
        continue;
      }
      this.y.record(`${key}.${field.key}`, field, raw);
      if (field.key === 'memory') result.memoryMiB = size.value;
      else result.diskMiB = size.value;
    }
    return result;
  }

  private timeout(key: string, entry: Field): number | undefined {
    const raw = this.y.scalar(entry);
    const duration = parseDuration(raw);
    if (!duration.ok) {
      this.y.report(entry, duration.message);
      return undefined;
    }
    this.y.record(key, entry, raw);
    return duration.value;
  }

  private env(key: string, entry: Field): Record<string, string> {
    const env: Record<string, string> = {};
    for (const field of this.y.entries(entry, undefined, 'a mapping of variable name to value', 'variable')) {
      if (field.value !== null && !this.isScalar(field)) {
        this.y.report(field, `expected a string, number or boolean, got ${this.describeScalar(field)}`);
        continue;
      }
      const value = field.value === null ? undefined : this.y.text(field, 'a string, number or boolean');
      if (value === undefined) {
        this.y.report(field, 'expected a string, number or boolean, got nothing (write "" for an empty value)');
        continue;
      }
      this.y.record(`${key}.${field.key}`, { ...field, at: field.keyNode }, field.key);
      env[field.key] = value;
    }
    return env;
  }

  private secrets(key: string, entry: Field): Record<string, SecretRef> {
    const secrets: Record<string, SecretRef> = {};
    for (const field of this.y.entries(entry, undefined, 'a mapping of variable name to secret reference', 'variable')) {
      const raw = this.y.string(field, 'a secret reference such as secretsmanager:NAME or ssm:/param/name');
      if (raw === undefined) continue;
      const parsed = parseSecretRef(raw);
      if (!parsed.ok) {
        this.y.report(field, parsed.message);
        continue;
      }
      this.y.record(`${key}.${field.key}`, { ...field, at: field.keyNode }, field.key);
      secrets[field.key] = parsed.ref;
    }
    return secrets;
  }

  private condition(entry: Field): StageCondition {
    const condition: StageCondition = {};
    for (const field of this.y.entries(entry, CONDITION_KEYS, 'a mapping of event and/or branch')) {
      const values = this.y.stringList(field, field.key === 'event' ? 'an event name' : 'a branch glob') ?? [];
      if (field.key === 'event') {
        const items = this.y.items(field);
        values.forEach((value, index) => this.checkEvent(items?.[index] ?? field, value));
        condition.events = values.filter((value): value is EventName => (EVENTS as readonly string[]).includes(value));
      } else {
        condition.branches = values;
      }
    }
    return condition;
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

  private isMapping(field: Field): boolean {
    return field.value !== null && !this.y.isList(field.value) && !this.isScalar(field);
  }

  private isScalar(field: Field): boolean {
    const raw = this.y.scalar(field);
    return raw === null || typeof raw !== 'object';
  }

  private describeScalar(field: Field): string {
    const raw = this.y.scalar(field);
    if (raw === null) return 'nothing';
    if (Array.isArray(raw)) return 'a list';
    if (typeof raw === 'object') return 'a mapping';
    return typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
  }
}

function isEmptyMapping(node: unknown): boolean {
  return isMap(node) && node.items.length === 0;
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
