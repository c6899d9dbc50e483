/**
 * The `publish` container (BUILDFARM_HELPER_MODE=publish), after the build container:
 * reads its exit code from the task metadata endpoint v4, uploads the log (secret values
 * masked, as the Lambda runner's agent masks them), the artifacts (after a success) and
 * the manifest, saves the cache, and writes the result record the report reads.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { timedOutMarker } from '../../domain/fargate/stage-script.js';
import { buildOutcome } from '../../domain/fargate/task-metadata.js';
import { STAGE_TIMEOUT_EXIT_CODE } from '../../domain/fargate/task-timeout.js';
import type { ArtifactManifest, StageResult } from '../../domain/report/types.js';
import { saveInPublish } from '../cache/fargate-cache.js';
import { releaseDiskReserve } from '../disk-reserve.js';
import { diskReserveFile, readPlanned, scriptPaths, startedFile, type HelperContext } from './helper-context.js';
import type { HelperDeps } from './helper-deps.js';
import { NO_ARTIFACTS, writeResult } from './result-record.js';
import { logMasking } from './stage-secrets.js';

export async function runPublish(context: HelperContext, deps: HelperDeps): Promise<StageResult> {
  const { stage, cacheScope } = await readPlanned(context, deps.store);
  // The build deletes the secret files before its commands run; if it never got that far, publish does.
  await rm(scriptPaths(context).secretsDir, { recursive: true, force: true });
  const masking = await logMasking(stage, context, deps);
  if ('withheld' in masking) deps.log.line(`warning: the stage log is withheld: ${masking.withheld}`);
  const outcome = buildOutcome(await deps.taskMetadata());
  // Before anything else writes: how full the task's storage was when the commands stopped.
  const disk = await releaseDiskReserve(diskReserveFile(context), context.workspace).catch(() => undefined);
  const startedText = await readFile(startedFile(context), 'utf8').catch(() => undefined);
  const startedAt = startedText ? Number(startedText) : deps.now();

  let manifest: ArtifactManifest = NO_ARTIFACTS;
  let failure: { name: string; message: string } | undefined;
  if (outcome.exitCode === 0) {
    try {
      const found = await deps.findArtifacts(context.workspace, stage.artifacts);
      for (const pattern of found.unmatched) deps.log.line(`warning: artifact path "${pattern}" matched no file`);
      manifest = await deps.uploadArtifacts(
        context.workspace,
        found.files,
        { buildId: context.buildId, stage: stage.name },
        deps.store,
      );
    } catch (error) {
      failure = { name: (error as Error).name, message: (error as Error).message };
    }
  } else if (outcome.exitCode === STAGE_TIMEOUT_EXIT_CODE && (await stat(timedOutMarker(scriptPaths(context))).then(() => true, () => false))) {
    // The build container's watchdog stopped the commands at the stage's timeout (stage-script.ts).
    failure = { name: 'StageTimeout', message: `the stage ran longer than its timeout of ${stage.timeoutSeconds} s` };
  } else if (outcome.exitCode !== null && disk?.wasFull) {
    failure = {
      name: 'OutOfDisk',
      message: `a command exited with code ${outcome.exitCode} with the task's ephemeral storage (${stage.fargate.ephemeralStorageGiB} GiB, shared by the workspace and the containers) full; raise resources.disk`,
    };
  } else {
    failure =
      outcome.exitCode === null
        ? { name: 'StageError', message: 'the build container did not run to completion' }
        : { name: 'CommandFailed', message: `a command exited with code ${outcome.exitCode}` };
  }
  const cache = context.homeDir
    ? await saveInPublish({ ...context, homeDir: context.homeDir }, stage, cacheScope, deps.store, deps.log, { succeeded: outcome.exitCode === 0 && !failure, now: deps.now })
    : undefined;
  const usage = await deps.containerUsage?.().catch(() => undefined);
  return writeResult(context, deps, { startedAt, outcome, failure, manifest, masking, logLimitBytes: stage.logLimitBytes, cache, ...(usage ? { usage } : {}) });
}
