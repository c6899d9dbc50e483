import { parseSecretRef } from './secret-ref.js';
import type { SecretRef } from './types.js';
import { MAX_LOG_LIMIT_MIB, MIN_LOG_LIMIT_MIB } from './limits.js';
import { formatMiB, parseDuration, parseSize } from './units.js';
import { kindOf, type Field, type YamlReader } from './yaml-reader.js';

/**
 * Reading the value fields shared by `defaults` and stages. Each reader
 * records the site of what it read under `key` (the field's path in the
 * normalised pipeline) and reports what it cannot read.
 */

export const RESOURCE_KEYS = ['cpu', 'memory', 'disk'] as const;

/** Only the fields the user wrote; defaults are applied by the stage reader. */
export interface ResourceRequest {
  cpu?: number;
  memoryMiB?: number;
  diskMiB?: number;
}

export function readResources(y: YamlReader, key: string, entry: Field): ResourceRequest {
  const result: ResourceRequest = {};
  for (const field of y.entries(entry, RESOURCE_KEYS, 'a mapping of cpu, memory and disk')) {
    const raw = y.scalar(field);
    if (field.key === 'cpu') {
      if (typeof raw === 'number' && Number.isFinite(raw)) {
        result.cpu = raw;
        y.record(`${key}.cpu`, field, raw);
      } else {
        y.report(field, `expected a number of vCPU such as 0.25, 0.5, 1, 2 or 4 (0.25 to 16), got ${kindOf(field.value)}`);
      }
      continue;
    }
    const size = parseSize(raw);
    if (!size.ok) {
      y.report(field, size.message);
      continue;
    }
    y.record(`${key}.${field.key}`, field, raw);
    if (field.key === 'memory') result.memoryMiB = size.value;
    else result.diskMiB = size.value;
  }
  return result;
}

/** Seconds, or undefined after reporting a malformed duration. */
export function readTimeout(y: YamlReader, key: string, entry: Field): number | undefined {
  const raw = y.scalar(entry);
  const duration = parseDuration(raw);
  if (!duration.ok) {
    y.report(entry, duration.message);
    return undefined;
  }
  y.record(key, entry, raw);
  return duration.value;
}

/** MiB, or undefined after reporting a malformed or out-of-range size (limits.ts: MIN/MAX_LOG_LIMIT_MIB). */
export function readLogLimit(y: YamlReader, key: string, entry: Field): number | undefined {
  const raw = y.scalar(entry);
  const size = parseSize(raw);
  if (!size.ok) {
    y.report(entry, size.message);
    return undefined;
  }
  if (size.value < MIN_LOG_LIMIT_MIB || size.value > MAX_LOG_LIMIT_MIB) {
    y.report(entry, `log-limit must be ${MIN_LOG_LIMIT_MIB} MiB to ${MAX_LOG_LIMIT_MIB} MiB (1 GiB), got ${formatMiB(size.value)}`);
    return undefined;
  }
  y.record(key, entry, raw);
  return size.value;
}

/** Variables as strings; numbers and booleans keep their written form. Sites point at the names. */
export function readEnv(y: YamlReader, key: string, entry: Field): Record<string, string> {
  const env: Record<string, string> = {};
  for (const field of y.entries(entry, undefined, 'a mapping of variable name to value', 'variable')) {
    if (field.value === null) {
      y.report(field, 'expected a string, number or boolean, got nothing (write "" for an empty value)');
      continue;
    }
    const value = y.text(field, 'a string, number or boolean');
    if (value === undefined) continue;
    y.record(`${key}.${field.key}`, { ...field, at: field.keyNode }, field.key);
    env[field.key] = value;
  }
  return env;
}

/** Variable name to secret reference. Sites point at the names. */
export function readSecrets(y: YamlReader, key: string, entry: Field): Record<string, SecretRef> {
  const secrets: Record<string, SecretRef> = {};
  for (const field of y.entries(entry, undefined, 'a mapping of variable name to secret reference', 'variable')) {
    const raw = y.string(field, 'a secret reference such as secretsmanager:NAME or ssm:/param/name');
    if (raw === undefined) continue;
    const parsed = parseSecretRef(raw);
    if (!parsed.ok) {
      y.report(field, parsed.message);
      continue;
    }
    y.record(`${key}.${field.key}`, { ...field, at: field.keyNode }, field.key);
    secrets[field.key] = parsed.ref;
  }
  return secrets;
}
