/**
 * What `buildfarm serve` does on start so that no accepted delivery is lost:
 *
 * 1. Every BuildRequests message on the bus goes through start-build again. A
 *    delivery answered 202 is on disk (the bus flushes before the reply), so a
 *    farm killed between that reply and the build's start finds it here and
 *    starts it now. Start-build names the build after the delivery, so messages
 *    that already have a build start nothing (as on AWS, where an execution
 *    name is unique for 90 days).
 * 2. A build the previous run left unfinished was marked `interrupted` by the
 *    build store. It is re-run ONCE, as a new build `{id}-rerun` with the same
 *    request; the interrupted record names its re-run. A re-run that is itself
 *    interrupted is not re-run again (a crash loop must not rebuild forever).
 *
 * Both happen after the farm's subscription is in place and before the server
 * listens, so a redelivery arriving at start cannot race them.
 */
import type { LocalBus } from '../adapters/local/local-bus.js';
import { parseBuildRequest } from '../domain/webhook/parse-build-request.js';
import { startBuild } from '../handlers/start-build-core.js';
import type { BuildStore } from './build-store.js';
import type { LocalFarm } from './farm.js';

/** Suffix of a re-run's build id. */
export const RERUN_SUFFIX = '-rerun';

export interface RecoveryOutcome {
  /** Builds started from bus messages that had none. */
  replayed: string[];
  /** Re-runs started for interrupted builds. */
  rerun: string[];
  /** Messages that could not be read back (kept on the bus, reported). */
  unreadable: number;
  /**
   * Builds that could not be started now (a full disk: the build record cannot be written). They
   * stay on the bus, and the next start tries again; the farm starts and serves meanwhile.
   */
  deferred: { id: string; reason: string }[];
}

export async function recoverAcceptedBuilds(deps: { bus: LocalBus; farm: LocalFarm; store: BuildStore }): Promise<RecoveryOutcome> {
  const outcome: RecoveryOutcome = { replayed: [], rerun: [], unreadable: 0, deferred: [] };
  for (const message of deps.bus.messages('BuildRequests')) {
    let request;
    try {
      request = parseBuildRequest(message.message);
    } catch {
      outcome.unreadable += 1;
      continue;
    }
    try {
      const started = await startBuild(request, { starter: deps.farm });
      if (!started.alreadyStarted) outcome.replayed.push(started.executionName);
    } catch (error) {
      outcome.deferred.push({ id: request.deliveryId, reason: (error as Error).message });
    }
  }
  for (const id of deps.store.interruptedAtOpen) {
    const record = deps.store.get(id);
    if (record === undefined || record.rerunId !== undefined || id.endsWith(RERUN_SUFFIX)) continue;
    // Execution names are at most 80 characters, as on AWS.
    const rerunId = `${id.slice(0, 80 - RERUN_SUFFIX.length)}${RERUN_SUFFIX}`;
    try {
      const started = await deps.farm.start(rerunId, { buildId: rerunId, request: record.request });
      record.rerunId = rerunId;
      await deps.store.save(record);
      if (!started.alreadyStarted) outcome.rerun.push(rerunId);
    } catch (error) {
      outcome.deferred.push({ id: rerunId, reason: (error as Error).message });
    }
  }
  return outcome;
}
