// Cold init probe, run as `node init-probe.cjs <bundle.js>` in a fresh process: plain
// CommonJS with no loader, as the Lambda Node.js runtime loads a handler. Prints how long
// the require took (wall and CPU time; CPU time is less disturbed by other load on the machine)
// and how long after the process started it finished.
'use strict';
const { performance } = require('node:perf_hooks');

const cpuBefore = process.cpuUsage();
const start = performance.now();
const module_ = require(process.argv[2]);
const requireMs = performance.now() - start;
const cpu = process.cpuUsage(cpuBefore);
if (module_ === null || typeof module_ !== 'object') throw new Error('the bundle exported nothing');
process.stdout.write(`${JSON.stringify({ requireMs, requireCpuMs: (cpu.user + cpu.system) / 1000, sinceProcessStartMs: performance.now(), rssMiB: process.memoryUsage().rss / 1048576 })}\n`);
