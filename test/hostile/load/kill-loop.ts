/**
 * Issue 11, test 1: kill -9 of `buildfarm serve` at random points with signed
 * deliveries in flight, then a restart on the same data directory. Nothing
 * acknowledged may be lost (every delivery answered 202 has a build with a
 * final status, and a build cut off as `interrupted` has its `-rerun`, final
 * too) and no process may outlive the farm (nothing carrying the run's marker
 * once every build has settled, nothing carrying the data directory's path
 * once the farm has stopped).
 *
 * Modes, in turn: the farm on Node 22 killed; started through the Node-20
 * wrapper of bin/buildfarm.mjs with the wrapper killed (the Node-22 farm must
 * stop by itself and free its port); the same with the Node-22 child killed.
 *
 * npx tsx test/hostile/load/kill-loop.ts   (KILL_RUNS=20, KILL_DELIVERIES=4)
 */
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allFinal, FINAL_STATUSES, sendSignedPush, pushPayload, waitSettled, type BuildSummary, type DeliveryOutcome } from '../../support/farm-api.js';
import { NODE_22, olderNode, startFarmCli, waitGone, type FarmCli } from '../../support/farm-cli.js';
import { makeGitRepo } from '../../support/git-repo.js';
import { isAlive, killAll, processesCarrying } from '../../support/process-tree.js';
import { Checks, isMain, numberFrom, runMain, type Outcome } from './checks.js';

const REPOSITORY = 'octo-org/kill-loop';
const SECRET = `kill-loop-secret-${randomUUID()}`;
const RERUN_SUFFIX = '-rerun';

export interface KillLoopOptions {
  runs: number;
  deliveriesPerRun: number;
  /** Deliveries and the kill each happen at a random point in [0, maxDelayMs). */
  maxDelayMs: number;
  /** A fresh data directory every N runs; the runs between reuse it (and its earlier builds). */
  freshDirectoryEvery: number;
  settleTimeoutMs: number;
  print?: boolean;
}

type Mode = 'farm' | 'wrapper' | 'wrapper-child';

/**
 * A stage that leaves a 120 s `sleep` running unless it finishes: its argument (and LOAD_MARKER in the
 * stage's environment) mark every process the run's stages start.
 */
function pipeline(marker: string, sleepArgument: string): string {
  return `version: 1
on:
  push:
    branches: ['**']
defaults:
  timeout: 2m
  env:
    LOAD_MARKER: ${marker}
stages:
  work:
    commands:
      - 'sleep ${sleepArgument} & sleep 2; kill $!; echo work-done'
  pack:
    image: public.ecr.aws/docker/library/alpine:3.20
    resources:
      cpu: 1
      memory: 2GB
    commands:
      - 'sleep ${sleepArgument} & sleep 1; kill $!; echo pack-done'
`;
}

function rerunOf(id: string): string {
  return `${id.slice(0, 80 - RERUN_SUFFIX.length)}${RERUN_SUFFIX}`;
}

/** Every accepted delivery has a build, every build is final, every interrupted original has its final re-run. */
function lostDeliveries(accepted: string[], builds: BuildSummary[]): string[] {
  const byId = new Map(builds.map((b) => [b.id, b]));
  const lost: string[] = [];
  for (const delivery of accepted) {
    const build = builds.find((b) => b.id.includes(delivery) && !b.id.endsWith(RERUN_SUFFIX));
    if (build === undefined) {
      lost.push(`${delivery}: no build`);
      continue;
    }
    if (!FINAL_STATUSES.includes(build.status)) lost.push(`${build.id}: ${build.status}`);
    if (build.status !== 'interrupted') continue;
    const rerun = byId.get(rerunOf(build.id));
    if (rerun === undefined) lost.push(`${build.id}: interrupted, no re-run`);
    else if (!FINAL_STATUSES.includes(rerun.status)) lost.push(`${rerun.id}: ${rerun.status}`);
  }
  return lost;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function killLoop(options: KillLoopOptions): Promise<Outcome> {
  const checks = new Checks('kill-loop', options.print);
  const marker = `kill-loop-${randomUUID()}`;
  const sleepArgument = `120.${randomInt(100_000, 999_999)}`;
  const repo = await makeGitRepo({ '.buildfarm.yml': pipeline(marker, sleepArgument) });
  const older = olderNode();
  const modes: Mode[] = older ? ['farm', 'wrapper', 'wrapper-child'] : ['farm'];
  const root = await mkdtemp(join(tmpdir(), 'kill-loop-'));
  const totals = { runs: 0, sent: 0, accepted: 0, unanswered: 0, otherStatus: 0, builds: 0, interrupted: 0, reruns: 0, lost: 0, orphans: 0, survivedKill: 0 };
  const started = Date.now();
  let farm: FarmCli | undefined;
  try {
    for (let run = 0; run < options.runs; run += 1) {
      const mode = modes[run % modes.length]!;
      const dataDirectory = join(root, `data-${Math.floor(run / options.freshDirectoryEvery)}`);
      const args = ['--port', '0', '--data-dir', dataDirectory, '--repo', `${REPOSITORY}=${repo.path}`];
      const env = { GITHUB_WEBHOOK_SECRET: SECRET };
      farm = await startFarmCli({ args, env, node: mode === 'farm' ? NODE_22 : older });

      // Act: one delivery answered first (so a build is running or queued at the kill, on a slow machine
      // too), then more at random points, and a kill -9 at another.
      const deliveries: Promise<DeliveryOutcome>[] = [Promise.resolve(await sendSignedPush(`${farm.url}/webhook`, SECRET, pushPayload(REPOSITORY, repo.sha)))];
      const killAt = randomInt(0, options.maxDelayMs);
      for (let i = 1; i < options.deliveriesPerRun; i += 1) {
        const at = randomInt(0, options.maxDelayMs);
        deliveries.push(sleep(at).then(() => sendSignedPush(`${farm!.url}/webhook`, SECRET, pushPayload(REPOSITORY, repo.sha))));
      }
      await sleep(killAt);
      const treeAtKill = farm.tree();
      const victim = mode === 'wrapper-child' ? farm.farmPid : farm.top.pid!;
      process.kill(victim, 'SIGKILL');
      const outcomes = await Promise.all(deliveries);
      // The Node processes must be gone (through the wrapper, the farm stops itself within about half a second).
      const nodesGone = await waitGone(isAlive, [farm.top.pid!, farm.farmPid], 15_000);
      checks.check(nodesGone, `run ${run} (${mode}): the farm's Node processes outlived the kill of ${victim} by 15 s`);
      const survivedKill = treeAtKill.filter((pid) => pid !== farm!.top.pid && pid !== farm!.farmPid && isAlive(pid));
      await farm.exited;

      // Act: restart on the same directory, and wait for every build to settle.
      const accepted = outcomes.filter((o) => o.status === 202).map((o) => o.deliveryId);
      farm = await startFarmCli({ args, env });
      const { builds, settled } = await waitSettled(farm.url, (list) => allFinal(list) && lostDeliveries(accepted, list).length === 0, options.settleTimeoutMs);

      // Assess: nothing acknowledged lost...
      const lost = lostDeliveries(accepted, builds);
      checks.check(settled && lost.length === 0, `run ${run} (${mode}): ${lost.length} acknowledged deliveries without a final build: ${lost.join('; ')}`);
      // ...and, with every build settled, no stage process left anywhere (5 s for the last stages to exit).
      await waitGone(() => processesCarrying(marker).length > 0, [marker.length], 5_000);
      const orphans = [...new Set([...processesCarrying(marker), ...processesCarrying(sleepArgument)])];
      checks.check(orphans.length === 0, `run ${run} (${mode}): ${orphans.length} stage processes outlived their farm and its restart: ${orphans.join(', ')}`);
      killAll(orphans);

      await farm.stop('SIGTERM');
      const leftAfterStop = processesCarrying(dataDirectory);
      checks.check(leftAfterStop.length === 0, `run ${run} (${mode}): ${leftAfterStop.length} processes carrying the data directory outlived serve's SIGTERM`);
      killAll(leftAfterStop);
      farm = undefined;

      const figure = {
        run,
        mode,
        killAfterMs: killAt,
        sent: outcomes.length,
        accepted: accepted.length,
        unanswered: outcomes.filter((o) => o.status === 0).length,
        otherStatus: outcomes.filter((o) => o.status !== 0 && o.status !== 202).map((o) => o.status),
        builds: builds.length,
        interrupted: builds.filter((b) => b.status === 'interrupted').length,
        reruns: builds.filter((b) => b.id.endsWith(RERUN_SUFFIX)).length,
        statuses: Object.fromEntries(FINAL_STATUSES.map((s) => [s, builds.filter((b) => b.status === s).length]).filter(([, n]) => n !== 0)),
        lost: lost.length,
        survivedKill: survivedKill.length,
        orphans: orphans.length,
      };
      checks.figure(figure);
      totals.runs += 1;
      totals.sent += figure.sent;
      totals.accepted += figure.accepted;
      totals.unanswered += figure.unanswered;
      totals.otherStatus += figure.otherStatus.length;
      totals.lost += figure.lost;
      totals.orphans += figure.orphans;
      totals.survivedKill += figure.survivedKill;
      // Builds accumulate in a reused directory: count this directory's at its last run.
      if ((run + 1) % options.freshDirectoryEvery === 0 || run + 1 === options.runs) {
        totals.builds += figure.builds;
        totals.interrupted += figure.interrupted;
        totals.reruns += figure.reruns;
      }
    }
  } finally {
    if (farm !== undefined) {
      killAll(farm.tree());
      await farm.exited;
    }
    killAll([...processesCarrying(marker), ...processesCarrying(sleepArgument), ...processesCarrying(root)]);
    await rm(root, { recursive: true, force: true });
    await rm(repo.path, { recursive: true, force: true });
  }
  checks.figure({ totals, seconds: Math.round((Date.now() - started) / 1000) });
  return checks;
}

if (isMain(import.meta.url)) {
  runMain(() =>
    killLoop({
      runs: numberFrom('KILL_RUNS', 20),
      deliveriesPerRun: numberFrom('KILL_DELIVERIES', 4),
      maxDelayMs: numberFrom('KILL_MAX_DELAY_MS', 3_000),
      freshDirectoryEvery: numberFrom('KILL_FRESH_EVERY', 5),
      settleTimeoutMs: numberFrom('KILL_SETTLE_MS', 240_000),
      print: true,
    }),
  );
}
