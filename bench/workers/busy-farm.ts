/**
 * The local farm as `buildfarm serve` wires it (startLocalFarm: bus, build store, s3rver,
 * HTTP server, real webhook endpoint), with N builds running through the real state machine,
 * each either in this process (`in-process`, as before issue 11) or in a child process of its
 * own (`child-process`, what serve runs now). Every build has two stages that write about
 * 6 MB of log each over ~12 s. The bench's deliveries (events/webhook-push.json) are for a
 * mapped repository, so each is accepted and durably published, then waits behind the N.
 * Prints `{"port":N}` once every build has a stage running; stops when stdin closes.
 *
 * `quiet`: one build that only sleeps, the baseline.
 *
 * Usage: node --import tsx busy-farm.ts <in-process|child-process|quiet> <data directory> <builds>
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { createChildProcessBuildRunner } from '../../functions/local/child-build/child-process-runner.js';
import { createLocalBuildRunner, type LocalBuildSettings } from '../../functions/local/local-build-runner.js';
import { startLocalFarm } from '../../functions/local/start-farm.js';
import { stopDescendants } from '../../functions/local/stop-descendants.js';
import { ROOT, stdinClosed } from '../lib/child.js';
import { repositoryWith } from '../lib/local-build.js';
import { WEBHOOK_SECRET } from '../lib/webhook-fixture.js';

const NOISY_STAGE = "for i in $(seq 1 60); do head -c 75000 /dev/urandom | base64; sleep 0.2; done";
const PIPELINE = `version: 1\nstages:\n  noisy-a:\n    commands:\n      - ${NOISY_STAGE}\n  noisy-b:\n    commands:\n      - ${NOISY_STAGE}\n`;
/** The baseline's one build: it only holds the farm's build slot (so deliveries queue, as in the other modes) and does nothing. */
const QUIET_PIPELINE = 'version: 1\nstages:\n  quiet:\n    commands:\n      - sleep 120\n';

const [mode, dataDirectory, buildsText] = process.argv.slice(2);
if ((mode !== 'in-process' && mode !== 'child-process' && mode !== 'quiet') || !dataDirectory) throw new Error('usage: busy-farm.ts <in-process|child-process|quiet> <data directory> <builds>');
const builds = mode === 'quiet' ? 1 : Number(buildsText ?? 2);

const repo = await repositoryWith(mode === 'quiet' ? QUIET_PIPELINE : PIPELINE);
const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
const fixture = JSON.parse(readFileSync(join(ROOT, 'events', 'webhook-push.json'), 'utf8')) as { body: string };
const fixtureRepository = (JSON.parse(fixture.body) as { repository: { full_name: string } }).repository.full_name;
const settings: LocalBuildSettings = { region: 'us-east-1', prices: DEFAULT_PRICE_BOOK, lambdaEphemeralStorageMB: 512 };
const farm = await startLocalFarm({
  dataDirectory,
  port: 0,
  repositories: [
    { repository: 'local/busy', path: repo },
    { repository: fixtureRepository, path: repo },
  ],
  secret: WEBHOOK_SECRET,
  secretFromEnvironment: true,
  region: 'us-east-1',
  createRunner: (context) => (mode === 'child-process' ? createChildProcessBuildRunner(context, settings) : createLocalBuildRunner(context, settings)),
  maxConcurrentBuilds: Math.max(1, builds),
});
for (let i = 0; i < builds; i += 1) {
  const buildId = `busy-${i}`;
  await farm.farm.start(buildId, {
    buildId,
    request: { deliveryId: buildId, event: 'push', repository: 'local/busy', cloneUrl: repo, ref: 'refs/heads/main', branch: 'main', sha, fromFork: false, message: 'busy', sender: 'bench', receivedAt: new Date().toISOString() },
  });
}
// Measured only once every build is in its stages (planning done, logs flowing).
const deadline = Date.now() + 120_000;
while (Date.now() < deadline) {
  const running = Array.from({ length: builds }, (_, i) => farm.farm.get(`busy-${i}`)).filter((b) => b?.stages.some((s) => s.status === 'running'));
  if (running.length === builds) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
console.log(JSON.stringify({ port: farm.port }));
await stdinClosed();
await farm.close('bench done');
await stopDescendants();
