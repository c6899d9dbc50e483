import type { CacheSpec } from './types.js';
import type { Field, YamlReader } from './yaml-reader.js';

/**
 * Reading `cache:` (a stage's or `defaults`'):
 *
 *   cache:
 *     paths: [~/.npm]
 *     key:
 *       files: [package-lock.json]
 *       prefix: npm
 *
 * Sites are recorded under `key` (`stages.x.cache.paths[0]`, `...key.files[0]`,
 * `...key.prefix`); a stage that inherits the `defaults` cache gets copies of the
 * `defaults` sites (`inheritCacheSites`), so lint points at the line to edit.
 * What the values may be (inside the workspace, a safe prefix) is lint's (lint-cache.ts).
 */

export const CACHE_KEYS = ['paths', 'key'] as const;
export const CACHE_KEY_KEYS = ['files', 'prefix'] as const;
/** The prefix when `key.prefix` is not written. */
export const DEFAULT_CACHE_PREFIX = 'cache';

export function readCache(y: YamlReader, key: string, entry: Field): CacheSpec | undefined {
  const fields = y.entries(entry, CACHE_KEYS, 'a mapping of paths and key');
  if (entry.value === null || !y.isMapping(entry)) {
    if (entry.value === null) y.report(entry, 'expected a mapping of paths and key, got nothing');
    return undefined;
  }
  y.record(key, entry);
  const pathsField = fields.find((field) => field.key === 'paths');
  const keyField = fields.find((field) => field.key === 'key');
  if (!pathsField) {
    y.report(entry, 'missing "paths"; list what to keep between builds, such as ~/.npm');
    return undefined;
  }
  const paths = y.stringList(pathsField, 'a path such as ~/.npm or node_modules', `${key}.paths`);
  if (paths !== undefined && paths.length === 0) y.report(pathsField, 'must list at least one path');
  const spec: CacheSpec = { paths: paths ?? [], keyFiles: [], prefix: DEFAULT_CACHE_PREFIX };
  if (keyField) {
    for (const field of y.entries(keyField, CACHE_KEY_KEYS, 'a mapping of files and prefix')) {
      if (field.key === 'files') {
        spec.keyFiles = y.stringList(field, 'a file relative to the workspace, such as package-lock.json', `${key}.key.files`) ?? [];
      } else {
        const prefix = y.text(field, 'a short name such as npm');
        if (prefix !== undefined) {
          y.record(`${key}.key.prefix`, field, prefix);
          spec.prefix = prefix;
        }
      }
    }
  }
  return paths === undefined ? undefined : spec;
}

/** Copies the sites of the `defaults` cache to a stage that inherits it. */
export function inheritCacheSites(y: YamlReader, stageKey: string, spec: CacheSpec): void {
  const copy = (suffix: string) => {
    const site = y.sites.get(`defaults.cache${suffix}`);
    if (site) y.sites.set(`${stageKey}${suffix}`, site);
  };
  copy('');
  copy('.key.prefix');
  spec.paths.forEach((_path, index) => copy(`.paths[${index}]`));
  spec.keyFiles.forEach((_file, index) => copy(`.key.files[${index}]`));
}
