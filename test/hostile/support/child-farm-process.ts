/**
 * A local farm as `buildfarm serve` runs builds (each in a child process), in a
 * process of its own so a test can kill it with SIGKILL mid-build. It maps a
 * repository whose one stage runs `<marker command>`, starts a build, prints
 * `{"buildProcess": pid}` once the build's process has started, and runs until killed.
 *
 * Usage: node --import tsx child-farm-process.ts <directory> <stage command>
 */
import { startRealLocalFarm } from '../../support/real-local-farm.js';

const [directory, command] = process.argv.slice(2);
if (directory === undefined || command === undefined) throw new Error('usage: child-farm-process.ts <directory> <stage command>');

const farm = await startRealLocalFarm({
  builds: 'child-process',
  directory,
  pipeline: `version: 1\nstages:\n  slow:\n    commands:\n      - ${command}\n`,
  onStarted: (_id, pid) => process.stdout.write(`${JSON.stringify({ buildProcess: pid })}\n`),
});
await farm.farm.farm.start('cut-off', farm.input('cut-off'));
// Keep running until killed; nothing here ever shuts the farm down cleanly.
setInterval(() => undefined, 60_000);
