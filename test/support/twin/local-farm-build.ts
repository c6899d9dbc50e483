/**
 * The same build on the local farm (the real state machine on aws-local-stepfunctions, the
 * embedded S3, the local executors), as `buildfarm run` wires it: the twin's reports are compared
 * with this one, so the two engines must agree on every stage's outcome.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedS3 } from '../../../functions/adapters/local/embedded-s3.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import type { BuildReport, StageReport } from '../../../functions/domain/report/types.js';
import type { BuildExecutionInput } from '../../../functions/handlers/build-state-machine.js';
import { createFarmContext } from '../../../functions/local/farm-context.js';
import { runLocalBuild } from '../../../functions/local/run-local-build.js';
import { RecordingNotifier } from '../recording-notifier.js';
import { TWIN_EPHEMERAL_STORAGE_MB } from './twin-functions.js';

export async function buildOnLocalFarm(input: BuildExecutionInput, repositoryPath: string, region: string): Promise<{ report: BuildReport; published: RecordingNotifier['published'] }> {
  const dataDirectory = await mkdtemp(join(tmpdir(), 'buildfarm-local-twin-'));
  const s3 = await startEmbeddedS3(join(dataDirectory, 's3'));
  const reports = new RecordingNotifier();
  try {
    const farm = createFarmContext({
      dataDirectory,
      s3,
      reports,
      repositories: [{ repository: input.request.repository, path: repositoryPath }],
      region,
      prices: DEFAULT_PRICE_BOOK,
      lambdaEphemeralStorageMB: TWIN_EPHEMERAL_STORAGE_MB,
      maxStageConcurrency: 2,
    });
    const { report } = await runLocalBuild(input, farm);
    return { report, published: reports.published };
  } finally {
    await s3.close();
    await rm(dataDirectory, { recursive: true, force: true });
  }
}

/** What two engines running the same commit must agree on, per stage (times and costs differ run to run). */
export function stageOutcomes(report: BuildReport) {
  return [...report.stages]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((stage: StageReport) => ({
      name: stage.name,
      status: stage.status,
      runner: stage.runner,
      lambda: stage.lambda,
      fargate: stage.fargate,
      exitCode: stage.exitCode,
      errorName: stage.errorName,
      escalated: stage.escalated,
      // Paths, not sizes: an archive's size varies with the files' checkout times.
      artifacts: stage.artifacts.map((a) => a.path).sort(),
    }));
}
