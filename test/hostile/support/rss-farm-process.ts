/**
 * A local farm (as `buildfarm serve` wires its server: the streaming webhook intake
 * with its in-flight ceiling) alone in a process, so a test can read its RSS from
 * /proc while it floods the webhook. Prints the farm's URL; on SIGUSR2 runs a full
 * garbage collection (it is started with --expose-gc) and prints "gc".
 *
 * Usage: node --expose-gc --import tsx rss-farm-process.ts
 */
import { startTestFarm } from '../../local/support/test-farm.js';

const farm = await startTestFarm();
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write('gc\n');
});
process.stdout.write(`${farm.url}\n`);
setInterval(() => undefined, 60_000);
