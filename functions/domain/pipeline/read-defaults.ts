/** The `defaults:` mapping of a pipeline file: values every stage inherits unless it sets its own. */
import { readCache } from './read-cache.js';
import { readEnv, readLogLimit, readResources, readTimeout } from './read-fields.js';
import { recordRead } from './schema-sites.js';
import type { Architecture, CacheSpec, RunnerChoice } from './types.js';
import type { Field, YamlReader } from './yaml-reader.js';

export const DEFAULTS_KEYS = ['image', 'resources', 'timeout', 'env', 'architecture', 'runner', 'log-limit', 'cache'] as const;
export const RUNNERS: readonly RunnerChoice[] = ['auto', 'lambda', 'fargate'];
export const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'arm64'];

export interface Defaults {
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

export function readDefaults(y: YamlReader, entry: Field | undefined): Defaults {
  const defaults: Defaults = { env: {} };
  if (!entry) return defaults;
  for (const field of y.entries(entry, DEFAULTS_KEYS, 'a mapping of image, resources, timeout, env, architecture, runner, log-limit and cache')) {
    const key = field.path;
    switch (field.key) {
      case 'image':
        defaults.image = recordRead(y, key, field, y.string(field, 'an image name such as node:22 or public.ecr.aws/docker/library/node:22'));
        break;
      case 'runner':
        defaults.runner = recordRead(y, key, field, y.choice(field, RUNNERS));
        break;
      case 'architecture':
        defaults.architecture = recordRead(y, key, field, y.choice(field, ARCHITECTURES));
        break;
      case 'timeout':
        defaults.timeoutSeconds = readTimeout(y, key, field);
        break;
      case 'log-limit':
        defaults.logLimitMiB = readLogLimit(y, key, field);
        break;
      case 'resources':
        Object.assign(defaults, readResources(y, key, field));
        break;
      case 'env':
        defaults.env = readEnv(y, key, field);
        break;
      case 'cache':
        defaults.cache = readCache(y, key, field);
        break;
    }
  }
  return defaults;
}
