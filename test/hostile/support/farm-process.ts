/**
 * A local farm in a process of its own, so a test can kill it with SIGKILL
 * mid-build (issue 6: the farm killed mid-build and restarted). It starts one
 * build whose `package` stage never finishes, prints the farm's URL, and runs
 * until killed.
 *
 * Usage: node --import tsx farm-process.ts <.buildfarm directory> <build id>
 */
import { pushRequest, startTestFarm } from '../../local/support/test-farm.js';

const [directory, buildId] = process.argv.slice(2);
if (directory === undefined || buildId === undefined) throw new Error('usage: farm-process.ts <directory> <build id>');

const farm = await startTestFarm({ directory, hold: { stage: 'package' } });
await farm.farm.start(buildId, { buildId, request: pushRequest() });
process.stdout.write(`${farm.url}\n`);
// Keep running until killed; nothing here ever shuts the farm down cleanly.
setInterval(() => undefined, 60_000);
