#!/usr/bin/env node
// The CLI is TypeScript. It runs as JavaScript from dist/cli/main.mjs (esbuild's bundle of it,
// `npm run build`) when that bundle is fresh: no source file it was built from changed since.
// Otherwise (a checkout without a build, or with edits since) tsx compiles the sources on the fly,
// which costs about half a second at every start. BUILDFARM_CLI=source forces tsx;
// BUILDFARM_CLI=bundle refuses to run anything but a fresh bundle (the tests set it).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { enableOwnCompileCache } from './compile-cache.mjs';
import { isLongRunning, wantsMallocTuning, withMallocTuning } from './malloc-tuning.mjs';

// V8's code cache on disk, in a folder only this user can change (see compile-cache.mjs).
enableOwnCompileCache();

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Why dist/cli cannot run (missing, or older than a source of it), or undefined when it can. */
function staleBundle() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(`${ROOT}dist/cli/inputs.json`, 'utf8'));
  } catch {
    return 'dist/cli is not built (npm run build)';
  }
  for (const input of manifest.inputs) {
    let modified;
    try {
      modified = statSync(`${ROOT}${input}`).mtimeMs;
    } catch {
      return `${input}, a source of dist/cli, is gone`;
    }
    if (modified > manifest.builtAt) return `${input} changed after dist/cli was built`;
  }
  // The packages bundled with it: present in a checkout (npm install rewrites it), absent once installed.
  for (const file of manifest.packages ?? []) {
    let modified = 0;
    try {
      modified = statSync(`${ROOT}${file}`).mtimeMs;
    } catch {}
    if (modified > manifest.builtAt) return `${file} changed after dist/cli was built`;
  }
  return undefined;
}

// The farm targets Node 22 (Lambda's nodejs22.x). npm scripts and npx put the `node`
// devDependency's Node 22 first on PATH; run directly on an older Node, re-run on that one.
const major = Number(process.versions.node.split('.')[0]);
const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
const longRunning = isLongRunning(process.argv.slice(2));
if (major >= 22 && longRunning && wantsMallocTuning(process.env) && typeof process.execve === 'function') {
  // glibc reads its malloc settings when a process starts (see malloc-tuning.mjs): the farm
  // (`serve`) becomes itself again with them, same pid, same arguments, before anything is loaded.
  // (process.execve: Node 22.15 and later; on an older 22 the farm runs without the setting.)
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], withMallocTuning(process.env));
  } catch {
    // Not replaced (the system refused the exec): run on, without the setting.
  }
}
if (major < 22 && existsSync(bundled)) {
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...(longRunning ? withMallocTuning(process.env) : process.env), BUILDFARM_WRAPPER_PID: String(process.pid) },
  });
  // `kill -INT`/`kill -TERM` of this process must stop the farm itself (it cancels builds and ends their stages).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1) : 1)));
} else {
  // Re-run by the wrapper above: a `kill -9` of the wrapper can't forward anything, so watch it. Once
  // this process is re-parented, stop as on SIGTERM (the farm cancels builds and ends their stages)
  // instead of running on unseen, holding the port.
  const wrapper = Number(process.env.BUILDFARM_WRAPPER_PID);
  if (wrapper > 0) {
    delete process.env.BUILDFARM_WRAPPER_PID;
    const watch = setInterval(() => {
      if (process.ppid === wrapper) return;
      clearInterval(watch);
      process.kill(process.pid, 'SIGTERM');
    }, 500);
    watch.unref();
  }
  const choice = process.env.BUILDFARM_CLI;
  const stale = choice === 'source' ? 'BUILDFARM_CLI=source' : staleBundle();
  if (stale !== undefined && choice === 'bundle') {
    process.stderr.write(`buildfarm: BUILDFARM_CLI=bundle, but ${stale}\n`);
    process.exit(1);
  }
  let main;
  if (stale === undefined) ({ main } = await import('../dist/cli/main.mjs'));
  else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('../functions/cli/main.ts'));
  }
  process.exitCode = await main(process.argv.slice(2));
}
