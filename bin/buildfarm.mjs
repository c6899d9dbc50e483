#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so `npx buildfarm` works
// in a checkout without a build step. Lambda bundles are built by esbuild instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The farm targets Node 22 (Lambda's nodejs22.x). npm scripts and npx put the `node`
// devDependency's Node 22 first on PATH; run directly on an older Node, re-run on that one.
const major = Number(process.versions.node.split('.')[0]);
const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
if (major < 22 && existsSync(bundled)) {
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BUILDFARM_WRAPPER_PID: String(process.pid) },
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
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../functions/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
