#!/usr/bin/env node
// `npm run bench`: the benchmarks are TypeScript (bench/main.ts) and import the farm's
// own modules, so tsx loads them, as bin/buildfarm.mjs does for the CLI.
//
//   npm run bench                          every section; writes bench/results.json
//   npm run bench -- --only webhook,plan   some sections; prints only, unless --out FILE
//   npm run bench -- --only express --quick   the express section on its dependency-free project (no network)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The farm targets Node 22 (Lambda's nodejs22.x); on an older Node, re-run on the project's own.
const major = Number(process.versions.node.split('.')[0]);
const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
if (major < 22 && existsSync(bundled)) {
  const child = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
