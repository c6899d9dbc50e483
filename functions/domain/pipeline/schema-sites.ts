/** Where the schema pass records the values it read, and where an unset stage field points. */
import type { Field, YamlReader } from './yaml-reader.js';

/** Records the site of a value that was read (undefined values are not recorded). */
export function recordRead<T>(y: YamlReader, key: string, field: Field, value: T | undefined): T | undefined {
  if (value !== undefined) y.record(key, field, value);
  return value;
}

/** A stage field left unset points at the `defaults` line it inherits. */
export function inheritSite(y: YamlReader, stageKey: string, defaultsKey: string, own: unknown): void {
  if (own !== undefined) return;
  const site = y.sites.get(defaultsKey);
  if (site) y.sites.set(stageKey, site);
}
