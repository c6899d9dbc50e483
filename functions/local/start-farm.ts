/**
 * Puts the local farm together: the bus and the build records under the
 * data directory, the embedded S3, the farm (the local Step Functions
 * stand-in), the BuildRequests subscription that runs start-build, and the
 * HTTP server with the webhook and the dashboard. `buildfarm serve` and the
 * end-to-end tests both start it through here.
 */
import { S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import { deletePrefix } from '../adapters/local/delete-prefix.js';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { startEmbeddedS3, type EmbeddedS3 } from '../adapters/local/embedded-s3.js';
import { LocalBus } from '../adapters/local/local-bus.js';
import { UserError } from '../domain/errors.js';
import type { Notifier } from '../ports/notifier.js';
import type { RunningBuilds } from '../ports/running-builds.js';
import type { BuildRunner } from './build-runner.js';
import { BuildStore } from './build-store.js';
import { LocalFarm, type FarmEvent } from './farm.js';
import type { RepositoryMapping } from './repositories.js';
import { createFarmServer, listen } from './server.js';
import { claimDataDirectory } from './data-directory-lock.js';
import { workRootFor } from './data-directory.js';
import { collectGarbage, type GarbageCollectOutcome } from './garbage-collect.js';
import { recoverAcceptedBuilds, type RecoveryOutcome } from './recover-accepted-builds.js';
import { DEFAULT_RETENTION, type RetentionPolicy } from './retention.js';
import { startBuildsFromBus } from './start-builds-from-bus.js';
import { spendAgainstBudgets, type BudgetLine } from '../domain/budget/budget-view.js';
import { hasBudgets, type Budgets } from '../domain/budget/budgets.js';
import { monthOf } from '../domain/budget/spend-ledger.js';
import { S3SpendLedger } from '../adapters/s3-spend-ledger.js';

/** Spend against the budgets for the dashboard; none when no budget is set or the ledger cannot be read. */
async function budgetLines(budgets: Budgets | undefined, ledger: S3SpendLedger, at: Date): Promise<BudgetLine[]> {
  if (!budgets || !hasBudgets(budgets)) return [];
  // Reservations first, entries second, as the Plan task reads them (domain/budget/admission-order.ts).
  const reservations = await ledger.reservations().catch(() => undefined);
  const entries = await ledger.entriesOf(monthOf(at)).catch(() => undefined);
  return entries && reservations ? spendAgainstBudgets(budgets, entries, reservations, at) : [];
}
import { createWebhookEndpoint } from './webhook-endpoint.js';

export class PortUnavailable extends UserError {
  override name = 'PortUnavailable';
}

/** What a build runner is made from. */
export interface RunnerContext {
  dataDirectory: string;
  s3: EmbeddedS3;
  /** The BuildReports topic: the report step publishes here. */
  reports: Notifier;
  repositories: RepositoryMapping[];
  /** The dashboard page of a build, once the server listens (the report links to it). */
  buildLink?(buildId: string): string | undefined;
  /** The farm's queued and running builds: a newer push stops older ones when its pipeline file says so. */
  running?: RunningBuilds;
}

export interface StartLocalFarmOptions {
  /** `.buildfarm/`: builds, bus messages, S3 objects, the generated secret. */
  dataDirectory: string;
  /** 0 picks a free port. */
  port: number;
  repositories: RepositoryMapping[];
  secret: string;
  secretFromEnvironment: boolean;
  /** Shown by the dashboard; the runner prices with its own settings. */
  region: string;
  createRunner: (context: RunnerContext) => BuildRunner;
  onEvent?: (event: FarmEvent) => void;
  onError?: (error: unknown) => void;
  maxConcurrentBuilds?: number;
  now?: () => Date;
  /** What is kept of finished builds (applied at start; `buildfarm gc` applies it on demand). */
  retention?: RetentionPolicy;
  /** The budgets the runner's policy checks, for the dashboard's spend against them. */
  budgets?: Budgets;
}

export interface RunningLocalFarm {
  url: string;
  webhookUrl: string;
  port: number;
  farm: LocalFarm;
  bus: LocalBus;
  s3: EmbeddedS3;
  store: BuildStore;
  repositories: RepositoryMapping[];
  /** What the start recovered: builds replayed from the bus, interrupted builds re-run. */
  recovery: RecoveryOutcome;
  /** What the retention policy removed at start. */
  collected: GarbageCollectOutcome;
  /** Cancels running builds (their processes end), then stops the server, the bus and S3. */
  close(reason?: string): Promise<void>;
}

export async function startLocalFarm(options: StartLocalFarmOptions): Promise<RunningLocalFarm> {
  const now = options.now ?? (() => new Date());
  const repositories = options.repositories.map((mapping) => ({ ...mapping }));
  await mkdir(options.dataDirectory, { recursive: true });
  const lock = await claimDataDirectory(options.dataDirectory);
  const bus = await LocalBus.open({ file: join(options.dataDirectory, 'bus', 'messages.jsonl'), now, onDeliveryError: options.onError });
  const store = await BuildStore.open(join(options.dataDirectory, 'builds'), now);
  const s3 = await startEmbeddedS3(join(options.dataDirectory, 's3'));
  // Retention first, so the recovery below never re-runs a build it lets go.
  const collected = await collectGarbage({
    store,
    bus,
    deleteObjects: (prefix) => deletePrefix(s3.client, s3.bucket, prefix),
    listObjects: (prefix) => new S3ArtifactStore(s3.client, s3.bucket).list(prefix),
    workRoot: workRootFor(options.dataDirectory),
    now: now(),
    policy: options.retention ?? DEFAULT_RETENTION,
  });
  let dashboard: string | undefined;
  const buildLink = (buildId: string) => (dashboard ? `${dashboard}/#/builds/${encodeURIComponent(buildId)}` : undefined);
  // The runner is made before the farm it runs for: it reaches the farm's builds once they exist.
  let farm: LocalFarm | undefined;
  const running: RunningBuilds = {
    findRunning: async (repository, branch) => (farm ? farm.findRunning(repository, branch) : []),
    stop: async (executionArn, reason) => farm?.stop(executionArn, reason),
  };
  const runner = options.createRunner({ dataDirectory: options.dataDirectory, s3, reports: bus.notifier('BuildReports'), repositories, buildLink, running });
  farm = new LocalFarm({ store, runner, artifacts: s3.store, bus, now, onEvent: options.onEvent, onError: options.onError, maxConcurrentBuilds: options.maxConcurrentBuilds });
  const unsubscribe = startBuildsFromBus(bus, farm);
  // Before the server listens: deliveries accepted by an earlier run that have no build, and
  // builds it left unfinished (re-run once), start now.
  const recovery = await recoverAcceptedBuilds({ bus, farm, store });

  // Only mapped repositories build: anything else is answered "skipped" by the webhook.
  const allowlist = repositories.map((mapping) => mapping.repository);
  const server: Server = createFarmServer({
    builds: farm,
    webhook: createWebhookEndpoint({ secret: options.secret, notifier: bus.notifier('BuildRequests'), allowlist, now }),
    webhookSecret: options.secret,
    messages: (topic) => bus.messages(topic),
    info: async () => ({
      webhookPath: '/webhook',
      repositories: repositories.map((r) => ({ ...r })),
      secretFromEnvironment: options.secretFromEnvironment,
      region: options.region,
      budgets: await budgetLines(options.budgets, new S3SpendLedger(s3.store), now()),
    }),
    onError: options.onError,
  });

  let port: number;
  try {
    port = await listen(server, options.port);
  } catch (error) {
    unsubscribe();
    await s3.close();
    await lock.release();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortUnavailable(`port ${options.port} on 127.0.0.1 is already in use (another buildfarm serve?); choose another with --port N`);
    }
    if ((error as NodeJS.ErrnoException).code === 'EACCES') {
      throw new PortUnavailable(`port ${options.port} needs privileges this user does not have; choose one above 1023 with --port N`);
    }
    throw error;
  }
  const url = `http://127.0.0.1:${port}`;
  dashboard = url;

  let closing: Promise<void> | undefined;
  return {
    url,
    webhookUrl: `${url}/webhook`,
    port,
    farm,
    bus,
    s3,
    store,
    repositories,
    recovery,
    collected,
    close(reason = 'the local farm was stopped') {
      closing ??= (async () => {
        unsubscribe();
        await farm.shutdown(reason);
        await runner.close?.();
        await bus.idle();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await s3.close();
        await lock.release();
      })();
      return closing;
    },
  };
}
