import { isMap } from 'yaml';
import type { EventName, StageCondition, TriggerFilter, Triggers } from './types.js';
import type { Field, YamlReader } from './yaml-reader.js';

/** Reading `on:` and a stage's `if:` (what they mean: triggers.ts). */

export const EVENTS: readonly EventName[] = ['push', 'pull_request'];
export const TRIGGER_KEYS = ['branches', 'branches-ignore', 'paths', 'paths-ignore'] as const;
export const CONDITION_KEYS = ['event', 'branch'] as const;

/** Without `on`, both events build on every branch. */
export const DEFAULT_TRIGGERS: Triggers = { push: {}, pull_request: {} };

export function readTriggers(y: YamlReader, entry: Field): Triggers {
  const triggers: Triggers = {};
  // GitHub-style shorthands: `on: push` and `on: [push, pull_request]`.
  if (entry.value !== null && !y.isMapping(entry)) {
    const names = y.stringList(entry, 'an event name (push or pull_request)') ?? [];
    const items = y.items(entry) ?? [entry];
    names.forEach((name, index) => checkEvent(y, items[index] ?? entry, name));
    for (const name of names) if (isEvent(name)) triggers[name] = {};
    return triggers;
  }
  for (const event of y.entries(entry, EVENTS, 'a mapping of push and/or pull_request to filters')) {
    triggers[event.key as EventName] = readFilter(y, event);
  }
  if (entry.value === null || (isMap(entry.value) && entry.value.items.length === 0)) {
    y.report(entry, 'lists no events, so nothing would ever build; list push and/or pull_request, or remove "on" to build on both');
  }
  return triggers;
}

export function readCondition(y: YamlReader, entry: Field): StageCondition {
  const condition: StageCondition = {};
  for (const field of y.entries(entry, CONDITION_KEYS, 'a mapping of event and/or branch')) {
    const values = y.stringList(field, field.key === 'event' ? 'an event name' : 'a branch glob') ?? [];
    if (field.key === 'event') {
      const items = y.items(field) ?? [field];
      values.forEach((value, index) => checkEvent(y, items[index] ?? field, value));
      condition.events = values.filter(isEvent);
    } else {
      condition.branches = values;
    }
  }
  return condition;
}

function readFilter(y: YamlReader, entry: Field): TriggerFilter {
  const filter: TriggerFilter = {};
  const fields = y.entries(entry, TRIGGER_KEYS, 'a mapping of branches, branches-ignore, paths and paths-ignore');
  for (const field of fields) {
    const globs = y.stringList(field, 'a glob') ?? [];
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
      y.report(
        { path: clash.path, at: clash.keyNode },
        `use either ${positive} or ${negative}, not both; to exclude inside ${positive}, prefix a pattern with "!"`,
      );
    }
  }
  return filter;
}

function checkEvent(y: YamlReader, field: Field, name: string): void {
  if (!isEvent(name)) y.report(field, `unknown event ${JSON.stringify(name)}; allowed events: ${EVENTS.join(', ')}`);
}

function isEvent(name: string): name is EventName {
  return (EVENTS as readonly string[]).includes(name);
}
