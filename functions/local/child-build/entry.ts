/**
 * Where the build process's entry module is and how Node must run it: the one
 * place that knows. From TypeScript sources (a checkout, `npx buildfarm`,
 * vitest) the child runs under the same tsx loader bin/buildfarm.mjs
 * registers, resolved from this package rather than the user's working
 * directory; from built JavaScript it runs the `.js` beside this module as is.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BuildProcessEntry {
  /** The module `child_process.fork` runs. */
  module: string;
  /** Node options for it (never the parent's own: a test runner's flags must not leak in). */
  execArgv: string[];
}

export function buildProcessEntry(): BuildProcessEntry {
  const fromSources = import.meta.url.endsWith('.ts');
  const module = fileURLToPath(new URL(fromSources ? './build-process.ts' : './build-process.js', import.meta.url));
  if (!fromSources) return { module, execArgv: [] };
  // tsx's package export "." is its loader (dist/loader.mjs), the module `node --import tsx` loads.
  const loader = createRequire(import.meta.url).resolve('tsx');
  return { module, execArgv: ['--import', pathToFileURL(loader).href] };
}
