/**
 * The `fetch` container (BUILDFARM_HELPER_MODE=fetch): reads the stage from the plan in S3,
 * materialises the workspace (snapshot and upstream artifacts, through the same stage-agent
 * code the Lambda runner uses), writes the build container's scripts, and hands the
 * workspace (and the stage's secrets, never for a fork) to the build user. On failure it
 * records the stage's result itself and exits non-zero, so the build container never starts.
 */
import { chown, lchown, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DISK_RESERVE_BYTES } from '../../domain/fargate/layout.js';
import { commandsScript, stageScript } from '../../domain/fargate/stage-script.js';
import { artifactSources } from '../../domain/plan/artifact-sources.js';
import type { PlannedStage } from '../../domain/plan/types.js';
import { restoreInFetch } from '../cache/fargate-cache.js';
import { setAsideDiskReserve } from '../disk-reserve.js';
import { SecretsDeniedForFork } from '../errors.js';
import { diskReserveFile, fetchRequestsFile, readPlanned, scriptPaths, startedFile, type HelperContext } from './helper-context.js';
import type { HelperDeps } from './helper-deps.js';
import { NO_ARTIFACTS, writeResult } from './result-record.js';
import { handOverSecrets, resolveSecrets } from './stage-secrets.js';

const GiB = 1024 ** 3;

/** Gives a tree to the build user (the volumes are created root-owned). */
async function chownTree(path: string, uid: number): Promise<void> {
  await chown(path, uid, uid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid);
    // The link itself (lchown), never what it points to: links kept from artifacts stay put.
    else if (entry.isSymbolicLink()) await lchown(child, uid, uid).catch(() => undefined);
    else await chown(child, uid, uid).catch(() => undefined);
  }
}

export async function runFetch(context: HelperContext, deps: HelperDeps): Promise<void> {
  const startedAt = deps.now();
  await writeFile(startedFile(context), String(startedAt)).catch(() => undefined);
  if (!(await setAsideDiskReserve(diskReserveFile(context), DISK_RESERVE_BYTES).catch(() => false))) {
    deps.log.line('warning: no room to set aside the disk reserve; a stage that fills the disk may not be reported as OutOfDisk');
  }
  let stage: PlannedStage | undefined;
  try {
    const planned = await readPlanned(context, deps.store);
    stage = planned.stage;
    deps.log.line(`== fetch ${stage.name} (build ${context.buildId})`);
    const secretNames = Object.keys(stage.secrets ?? {});
    if (secretNames.length > 0 && context.fromFork) {
      throw new SecretsDeniedForFork(
        `stage "${stage.name}" needs secrets (${secretNames.join(', ')}), which are never given to pull requests from forks`,
      );
    }
    // Read first, as the Lambda runner does: a missing secret fails the stage before any download.
    const secretValues = await resolveSecrets(stage, deps.secrets);
    await deps.prepareWorkspace(
      {
        buildId: context.buildId,
        artifactsFrom: artifactSources(stage),
        workspace: context.workspace,
        limitBytes: stage.fargate.ephemeralStorageGiB * GiB,
        limitIsDisk: true,
      },
      deps.store,
      deps.log,
    );
    await mkdir(context.helperDir, { recursive: true });
    if (context.homeDir) await restoreInFetch({ ...context, homeDir: context.homeDir }, stage, planned.cacheScope, deps.store, deps.log, stage.fargate.ephemeralStorageGiB * GiB);
    const paths = scriptPaths(context);
    await writeFile(paths.commandsScript, commandsScript(stage.commands, paths), { mode: 0o755 });
    await writeFile(join(context.helperDir, 'stage.sh'), stageScript(stage, paths), { mode: 0o755 });
    if (context.workspaceUid !== 0) {
      await chownTree(context.workspace, context.workspaceUid);
      await chown(context.logsDir, context.workspaceUid, context.workspaceUid);
    }
    if (secretNames.length > 0) {
      await handOverSecrets(secretValues, context);
      deps.log.line(`secrets for the build user: ${secretNames.join(', ')}`);
    }
    if (deps.s3Requests) await writeFile(fetchRequestsFile(context), JSON.stringify(deps.s3Requests()));
  } catch (error) {
    // Nothing of a secret may outlive a fetch that failed.
    await rm(scriptPaths(context).secretsDir, { recursive: true, force: true }).catch(() => undefined);
    // The build container will not start (it depends on fetch's SUCCESS): record why now.
    await writeResult(context, deps, {
      startedAt,
      outcome: { exitCode: null },
      failure: { name: (error as Error).name || 'StageError', message: (error as Error).message },
      manifest: NO_ARTIFACTS,
    });
    throw error;
  }
}
