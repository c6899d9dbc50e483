/**
 * A local farm for tests: bus, store and server as `buildfarm serve` wires
 * them, in a temporary .buildfarm directory, with a ScriptedRunner and an
 * in-memory artifact store, listening on 127.0.0.1 on a free port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBus } from '../../../functions/adapters/local/local-bus.js';
import type { BuildRequest } from '../../../functions/domain/build-request.js';
import { BuildStore } from '../../../functions/local/build-store.js';
import { LocalFarm } from '../../../functions/local/farm.js';
import { createFarmServer, listen, type WebhookEndpoint } from '../../../functions/local/server.js';
import { recoverAcceptedBuilds, type RecoveryOutcome } from '../../../functions/local/recover-accepted-builds.js';
import { startBuildsFromBus } from '../../../functions/local/start-builds-from-bus.js';
import { createWebhookEndpoint } from '../../../functions/local/webhook-endpoint.js';
import { TEST_SECRET } from '../../support/signed-request.js';
import { MemoryArtifactStore } from './memory-artifact-store.js';
import { ScriptedRunner, type ScriptedRunnerOptions } from './scripted-runner.js';

export interface TestFarm {
  url: string;
  directory: string;
  farm: LocalFarm;
  bus: LocalBus;
  store: BuildStore;
  artifacts: MemoryArtifactStore;
  runner: ScriptedRunner;
  server: Server;
  recovery: RecoveryOutcome;
  close(): Promise<void>;
}

export interface TestFarmOptions extends Partial<Pick<ScriptedRunnerOptions, 'hold' | 'fail'>> {
  /** Replaces the real webhook endpoint (handleWebhook signed with TEST_SECRET, allowlist = the mapped repositories). */
  webhook?: WebhookEndpoint;
  /** The repositories the farm maps (default octo-org/hello-farm). */
  repositories?: string[];
  directory?: string;
  /** The server's ceiling on in-flight webhook bytes (default 64 MiB). */
  maxInFlightWebhookBytes?: number;
}

export async function startTestFarm(options: TestFarmOptions = {}): Promise<TestFarm> {
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'buildfarm-local-')));
  const bus = await LocalBus.open({ file: join(directory, 'bus', 'messages.jsonl') });
  const store = await BuildStore.open(join(directory, 'builds'));
  const artifacts = new MemoryArtifactStore();
  const runner = new ScriptedRunner({ artifacts, reports: bus.notifier('BuildReports'), hold: options.hold, fail: options.fail });
  const farm = new LocalFarm({ store, runner, artifacts, bus });
  const repositories = options.repositories ?? ['octo-org/hello-farm'];
  const unsubscribe = startBuildsFromBus(bus, farm);
  // As `buildfarm serve` does on start: accepted deliveries without a build, and interrupted builds.
  const recovery = await recoverAcceptedBuilds({ bus, farm, store });
  const server = createFarmServer({
    builds: farm,
    webhook: options.webhook ?? createWebhookEndpoint({ secret: TEST_SECRET, notifier: bus.notifier('BuildRequests'), allowlist: repositories, now: () => new Date() }),
    // The real endpoint gets the streaming intake, as `buildfarm serve` wires it.
    webhookSecret: options.webhook === undefined ? TEST_SECRET : undefined,
    maxInFlightWebhookBytes: options.maxInFlightWebhookBytes,
    messages: (topic) => bus.messages(topic),
    info: () => ({ webhookPath: '/webhook', repositories: repositories.map((repository) => ({ repository, path: `/srv/${repository}` })), secretFromEnvironment: false, region: 'us-east-1' }),
  });
  const port = await listen(server, 0);
  return {
    url: `http://127.0.0.1:${port}`,
    directory,
    farm,
    bus,
    store,
    artifacts,
    runner,
    server,
    recovery,
    async close() {
      runner.release();
      unsubscribe();
      await bus.idle();
      await farm.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bus.idle();
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
}

let sequence = 0;

/** A push BuildRequest as the webhook would publish it. */
export function pushRequest(overrides: Partial<BuildRequest> = {}): BuildRequest {
  sequence += 1;
  return {
    deliveryId: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    event: 'push',
    repository: 'octo-org/hello-farm',
    cloneUrl: 'https://github.com/octo-org/hello-farm.git',
    ref: 'refs/heads/main',
    branch: 'main',
    sha: createSha(sequence),
    fromFork: false,
    message: 'Say hello to the farm',
    sender: 'octocat',
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

function createSha(n: number): string {
  return (n.toString(16).padStart(8, '0') + 'c0ffee1234567890abcdef1234567890').slice(0, 40);
}
