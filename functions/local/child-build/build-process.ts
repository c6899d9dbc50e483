/**
 * The process one build of `buildfarm serve` runs in (forked by
 * child-process-runner.ts; see entry.ts for how Node runs it). It gets the
 * build and the farm's settings over IPC, builds exactly as `buildfarm run`
 * does (runLocalBuild: the real state machine, the local Lambda and Fargate
 * executors, the embedded S3 over HTTP), and sends progress and the report
 * back. The farm's event loop only relays messages, so webhooks and the
 * dashboard answer while stages run, plan and upload here.
 *
 * It never outlives the farm: when the IPC channel closes (the farm stopped,
 * crashed or was killed with SIGKILL) it aborts the build, ends every process
 * it started and exits.
 */
import { S3ArtifactStore } from '../../adapters/aws/s3-artifact-store.js';
import { s3rverClient } from '../../adapters/local/s3rver-client.js';
import type { EmbeddedS3 } from '../../adapters/local/embedded-s3.js';
import { killMarkedFamily, useStageMarkerFamily } from '../../runner/stage-containment.js';
import { createFarmContext } from '../farm-context.js';
import { runLocalBuild } from '../run-local-build.js';
import { findDescendants, stopDescendants, type ProcessIdentity } from '../stop-descendants.js';
import type { BuildProcessSettings, FromBuildProcess, Question, ToBuildProcess } from './protocol.js';
import type { BuildExecutionInput } from '../build-record.js';
import { LogBatcher } from './log-batcher.js';

/** How long an orphaned build gets to stop its stages itself before they are killed. */
const ORPHAN_SETTLE_MS = 5000;

const controller = new AbortController();
const answers = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let asked = 0;
let building: Promise<void> | undefined;
let family: string | undefined;
/** The loader's own helpers (tsx's esbuild service), started before any build: spared by the sweep. */
const ownHelpers: Promise<ProcessIdentity[]> = findDescendants(process.pid);

function send(message: FromBuildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    // A closed channel is handled by 'disconnect'; the send itself never throws at the build.
    process.send!(message, undefined, {}, () => resolve());
  });
}

function ask(question: Question): Promise<unknown> {
  if (!process.connected) return Promise.reject(new Error('the farm is gone'));
  asked += 1;
  const id = asked;
  return new Promise((resolve, reject) => {
    answers.set(id, { resolve, reject });
    void send({ type: 'ask', id, question });
  });
}

async function build(input: BuildExecutionInput, settings: BuildProcessSettings): Promise<void> {
  await ownHelpers;
  family = settings.markerFamily;
  useStageMarkerFamily(family);
  const client = s3rverClient(settings.s3.endpoint);
  const s3: EmbeddedS3 = {
    ...settings.s3,
    client,
    store: new S3ArtifactStore(client, settings.s3.bucket),
    close: async () => client.destroy(),
  };
  const farm = createFarmContext({
    dataDirectory: settings.dataDirectory,
    s3,
    reports: { publish: async (message, attributes) => (await ask({ kind: 'publish', message, attributes })) as { messageId: string } },
    repositories: settings.repositories,
    region: settings.region,
    prices: settings.prices,
    lambdaEphemeralStorageMB: settings.lambdaEphemeralStorageMB,
    lambdaRunnerTiersMB: settings.lambdaRunnerTiersMB,
    policy: settings.policy,
    buildLink: settings.buildLink === undefined ? undefined : () => settings.buildLink,
    running: {
      findRunning: async (repository, branch) => (await ask({ kind: 'findRunning', repository, branch })) as never,
      stop: async (executionArn, reason) => void (await ask({ kind: 'stop', executionArn, reason })),
    },
    sandbox: settings.sandbox,
    maxStageConcurrency: settings.maxStageConcurrency,
  });
  const logs = new LogBatcher({ send: (stage, chunk) => send({ type: 'stageLog', stage, chunk }) });
  try {
    const { report } = await runLocalBuild(input, farm, {
      signal: controller.signal,
      progress: {
        planned: (plan) => void send({ type: 'planned', plan }),
        stageStarted: (stage, at) => void send({ type: 'stageStarted', stage, at: at.toISOString() }),
        stageLog: (stage, chunk) => logs.add(stage, chunk),
        stageFinished: (result) => {
          logs.flush(result.stage);
          void send({ type: 'stageFinished', result });
        },
      },
    });
    logs.flush();
    await send({ type: 'report', report });
  } catch (error) {
    logs.flush();
    await send({ type: 'failed', error: { name: (error as Error).name ?? 'Error', message: (error as Error).message ?? String(error) } });
  } finally {
    client.destroy();
  }
}

/** The farm is gone: nothing will read this build's outcome, and nothing of it may run on. */
async function orphaned(): Promise<never> {
  controller.abort(new Error('the farm stopped'));
  for (const { reject } of answers.values()) reject(new Error('the farm is gone'));
  answers.clear();
  await Promise.race([building, new Promise((resolve) => setTimeout(resolve, ORPHAN_SETTLE_MS))]);
  await stopDescendants({ except: await ownHelpers, graceMs: 1000 });
  if (family !== undefined) await killMarkedFamily(family);
  process.exit(1);
}

function onMessage(message: ToBuildProcess): void {
  if (message.type === 'run' && building === undefined) {
    building = build(message.input, message.settings).finally(() => {
      // Done: leave once the last message is out (disconnecting lets the event loop end).
      if (!process.connected) return; // orphaned: orphaned() ends this process
      process.off('disconnect', onDisconnect);
      process.disconnect();
    });
  } else if (message.type === 'abort') {
    controller.abort(new Error(message.reason));
  } else if (message.type === 'answer') {
    const waiting = answers.get(message.id);
    answers.delete(message.id);
    if (message.error !== undefined) waiting?.reject(new Error(message.error));
    else waiting?.resolve(message.value);
  }
}

function onDisconnect(): void {
  void orphaned();
}

if (process.send === undefined) throw new Error('build-process.ts runs only as a child of the local farm (child_process.fork)');
process.on('message', onMessage);
process.on('disconnect', onDisconnect);
// The farm's Ctrl-C reaches the whole foreground process group; the farm decides what stops (an abort message).
process.on('SIGINT', () => undefined);
// Forked ahead of its build (warm-build-process.ts), it may have lost its farm while it loaded.
if (!process.connected) void orphaned();
else void send({ type: 'ready' });
