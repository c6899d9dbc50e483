/**
 * Where the farm's own files are (the state machine definition, the dashboard, the example, the
 * Fargate helper's source), whether this code runs from its TypeScript sources under tsx or from the
 * CLI bundle esbuild writes to dist/cli/ (scripts/bundle.mjs). A bundle has a single
 * `import.meta.url` for every module in it, so paths relative to a module's own folder would point
 * elsewhere there: every such path is resolved from the farm's root instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest folder above this module that holds the farm's package.json and its state machine:
 * the checkout, or the installed package (node_modules/@scope/buildfarm).
 */
function findFarmRoot(start: string): string {
  let directory = start;
  for (;;) {
    if (existsSync(join(directory, 'package.json')) && existsSync(join(directory, 'statemachines', 'build.asl.json'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`no buildfarm package (package.json with statemachines/build.asl.json) above ${start}`);
    directory = parent;
  }
}

export const FARM_ROOT = findFarmRoot(dirname(fileURLToPath(import.meta.url)));

/** A file or folder of the farm, by its path from the farm's root (`statemachines/build.asl.json`). */
export function farmFile(...segments: string[]): string {
  return join(FARM_ROOT, ...segments);
}
