/**
 * A BuildRunner for tests of the farm, the server and the dashboard before
 * (and besides) the real state machine: it "runs" a fixed four-stage plan
 * shaped like examples/hello-farm (two Lambda stages, a test stage, one
 * Fargate stage), writes logs and artifacts to the artifact store under the
 * farm's key layout, and publishes its report to the BuildReports notifier.
 * A stage can be held open (`hold`) so tests see a build running.
 */
import { createHash } from 'node:crypto';
import { reportCostFields } from '../../support/report-cost-fixture.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { manifestKey } from '../../../functions/domain/storage-keys.js';
import { uploadArtifacts } from '../../../functions/runner/artifacts.js';
import type { Plan, PlannedStage } from '../../../functions/domain/plan/types.js';
import type { BuildReport, StageReport, StageResult } from '../../../functions/domain/report/types.js';
import type { BuildExecutionInput } from '../../../functions/local/build-record.js';
import type { BuildRunner, RunBuildOptions } from '../../../functions/local/build-runner.js';
import type { ArtifactStore } from '../../../functions/ports/artifact-store.js';
import type { Notifier } from '../../../functions/ports/notifier.js';

const LAMBDA = { memoryMB: 1024, ephemeralStorageMB: 512, architecture: 'arm64' as const };
const FARGATE = { cpu: 1024, memory: 2048, ephemeralStorageGiB: 21, architecture: 'arm64' as const, spot: false };

interface ScriptedStage {
  name: string;
  wave: number;
  runner: 'lambda' | 'fargate';
  needs: string[];
  reason: string;
  durationMs: number;
  costUsd: number;
  fargateCostUsd: number;
  artifacts: Record<string, string>;
}

export const SCRIPT: ScriptedStage[] = [
  { name: 'build', wave: 0, runner: 'lambda', needs: [], reason: 'no image, 5 min timeout fits under 15 min, workspace fits 512 MB /tmp', durationMs: 2300, costUsd: 0.0000307, fargateCostUsd: 0.000656, artifacts: { 'dist/hello.txt': 'Hello, farm!\n' } },
  { name: 'lint', wave: 0, runner: 'lambda', needs: [], reason: 'no image, 5 min timeout fits under 15 min, workspace fits 512 MB /tmp', durationMs: 1200, costUsd: 0.000016, fargateCostUsd: 0.000656, artifacts: {} },
  { name: 'test', wave: 1, runner: 'lambda', needs: ['build'], reason: 'no image, 5 min timeout fits under 15 min, workspace fits 512 MB /tmp', durationMs: 3100, costUsd: 0.0000413, fargateCostUsd: 0.000656, artifacts: { 'reports/test.txt': 'ok 1 greeting\nok 2 farewell\n' } },
  { name: 'package', wave: 2, runner: 'fargate', needs: ['test', 'lint'], reason: 'needs the container image public.ecr.aws/docker/library/alpine:3.20: Fargate at 1 vCPU / 2 GB, the cheapest valid size for cpu 1, memory 2GB', durationMs: 4200, costUsd: 0.000656, fargateCostUsd: 0.000656, artifacts: { 'release/hello-farm.tar.gz': 'not really a tarball', 'release/SHA256SUMS': 'abc  hello-farm.tar.gz\n' } },
];

export interface ScriptedRunnerOptions {
  artifacts: ArtifactStore;
  reports: Notifier;
  /** A stage whose run waits until `release()` (or the abort signal); only in build `buildId` when given. */
  hold?: { stage: string; buildId?: string };
  /** A stage that fails (exit 1), so its dependents are skipped; only in build `buildId` when given. */
  fail?: { stage: string; buildId?: string };
}

export class ScriptedRunner implements BuildRunner {
  readonly runs: BuildExecutionInput[] = [];
  private releaseHold: (() => void) | undefined;
  private held: Promise<void> | undefined;

  constructor(private readonly options: ScriptedRunnerOptions) {
    if (options.hold !== undefined) this.held = new Promise((resolve) => (this.releaseHold = resolve));
  }

  release(): void {
    this.releaseHold?.();
  }

  async run(input: BuildExecutionInput, { signal, progress }: RunBuildOptions): Promise<BuildReport> {
    this.runs.push(input);
    const { buildId } = input;
    const started = Date.now();
    const plan = planOf();
    progress.planned(plan);
    const reports: StageReport[] = [];
    let clock = started;
    const failed = new Set<string>();
    for (const wave of plan.waves) {
      let waveEnd = clock;
      for (const name of wave) {
        const stage = SCRIPT.find((s) => s.name === name)!;
        const skip = stage.needs.some((need) => failed.has(need));
        if (skip) {
          failed.add(name);
          reports.push(stageReport(stage, 'skipped', clock, clock, {}));
          continue;
        }
        progress.stageStarted(name, new Date(clock));
        progress.stageLog(name, `$ sh scripts/${name}.sh\n`);
        const hold = this.options.hold;
        if (hold !== undefined && hold.stage === name && (hold.buildId === undefined || hold.buildId === buildId)) {
          await Promise.race([this.held, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
          if (signal.aborted) throw signal.reason;
        }
        const fail = this.options.fail;
        const status = fail !== undefined && fail.stage === name && (fail.buildId === undefined || fail.buildId === buildId) ? 'failed' : 'succeeded';
        if (status === 'failed') failed.add(name);
        const log = `$ sh scripts/${name}.sh\n${name}: ${status === 'failed' ? 'error: greeting.txt is empty' : 'done'}\n`;
        await this.options.artifacts.put(`builds/${buildId}/stages/${name}/log.txt`, log);
        const artifacts = status === 'succeeded' ? stage.artifacts : {};
        await storeArtifacts(this.options.artifacts, buildId, name, artifacts);
        const end = clock + stage.durationMs;
        waveEnd = Math.max(waveEnd, end);
        const result: StageResult = {
          buildId, stage: name, status, runner: stage.runner, exitCode: status === 'failed' ? 1 : 0, reason: outcomeOf(name, status),
          startedAt: new Date(clock).toISOString(), finishedAt: new Date(end).toISOString(), durationMs: stage.durationMs,
          peakMemoryMiB: 80, peakDiskMiB: 12, logKey: `builds/${buildId}/stages/${name}/log.txt`,
          manifestKey: `builds/${buildId}/stages/${name}/manifest.json`, artifactCount: Object.keys(artifacts).length,
          artifactBytes: Object.values(artifacts).reduce((n, body) => n + body.length, 0),
        };
        progress.stageFinished(result);
        reports.push(stageReport(stage, status, clock, end, artifacts, buildId));
      }
      clock = waveEnd;
    }
    const computeUsd = reports.reduce((sum, s) => sum + s.costUsd, 0);
    const report: BuildReport = {
      buildId, repository: input.request.repository, ref: input.request.ref, sha: input.request.sha,
      status: failed.size > 0 ? 'failed' : 'succeeded',
      startedAt: new Date(started).toISOString(), finishedAt: new Date(clock).toISOString(), durationMs: clock - started,
      stages: reports,
      ...reportCostFields({
        computeUsd, stateTransitions: 15, stateTransitionsUsd: 0.000375, s3Requests: 24, s3RequestsUsd: 0.0000204,
        predictedUsd: plan.predictedCostUsd, allFargateUsd: SCRIPT.reduce((sum, s) => sum + s.fargateCostUsd, 0) + 0.000375 + 0.0000204,
      }),
    };
    await this.options.reports.publish(JSON.stringify(report), { buildId, repository: report.repository, status: report.status });
    return report;
  }
}

function planOf(): Plan {
  const stages: PlannedStage[] = SCRIPT.map((s) => ({
    name: s.name, wave: s.wave, runner: s.runner, reason: s.reason, timeoutSeconds: 300, needs: s.needs, upstream: s.needs,
    commands: [`sh scripts/${s.name}.sh`], env: {}, secrets: {}, artifacts: Object.keys(s.artifacts), runAsRoot: false,
    lambda: s.runner === 'lambda' ? LAMBDA : undefined, fargate: FARGATE, predictedDurationSeconds: 300, predictedFrom: 'timeout',
    predictedCostUsd: s.costUsd * 1.5,
  }));
  return {
    version: 1, waves: [['build', 'lint'], ['test'], ['package']], stages, skipped: [], failFast: true, cancelSuperseded: false,
    region: 'us-east-1', predictedCostUsd: stages.reduce((sum, s) => sum + s.predictedCostUsd, 0), secretsWithheld: false,
  };
}

function stageReport(stage: ScriptedStage, status: StageReport['status'], start: number, end: number, artifacts: Record<string, string>, buildId?: string): StageReport {
  return {
    name: stage.name, status, runner: stage.runner,
    lambda: stage.runner === 'lambda' ? LAMBDA : undefined, fargate: stage.runner === 'fargate' ? FARGATE : undefined,
    durationMs: end - start, billedDurationMs: stage.runner === 'fargate' ? Math.max(60_000, end - start) : end - start,
    costUsd: status === 'skipped' ? 0 : stage.costUsd, predictedCostUsd: stage.costUsd * 1.5,
    exitCode: status === 'failed' ? 1 : status === 'skipped' ? null : 0, errorName: status === 'failed' ? 'CommandFailed' : undefined,
    reason: outcomeOf(stage.name, status), escalated: false,
    artifacts: Object.entries(artifacts).sort(([a], [b]) => a.localeCompare(b)).map(([path, body]) => ({ path, size: body.length, mode: 0o644, type: 'file' as const })),
    logKey: buildId ? `builds/${buildId}/stages/${stage.name}/log.txt` : undefined,
    startedAt: new Date(start).toISOString(), finishedAt: new Date(end).toISOString(),
    // What a runner measures (scripted): the dashboard shows it under the stage.
    ...(status === 'skipped' ? {} : { peakMemoryMiB: 80, cpuUsage: { seconds: 1.5, wallSeconds: (end - start) / 1000, averageVcpu: 1.5 / ((end - start) / 1000), peakVcpu: 0.9, source: 'process-tree' as const } }),
  };
}

/** The stage result's reason: how the run ended, as the agent words it. */
function outcomeOf(stage: string, status: StageReport['status']): string {
  if (status === 'failed') return `"sh scripts/${stage}.sh" exited with 1`;
  if (status === 'skipped') return 'a stage it needs failed';
  return '1 commands succeeded';
}

/** The stage's files as the agent stores them: one archive (the real uploader) and its manifest. */
async function storeArtifacts(store: ArtifactStore, buildId: string, stage: string, files: Record<string, string>): Promise<void> {
  const workspace = await mkdtemp(join(tmpdir(), 'scripted-'));
  try {
    for (const [path, body] of Object.entries(files)) {
      await mkdir(dirname(join(workspace, path)), { recursive: true });
      await writeFile(join(workspace, path), body, { mode: 0o644 });
    }
    const manifest = await uploadArtifacts(workspace, Object.keys(files).sort(), { buildId, stage }, store);
    await store.put(manifestKey(buildId, stage), JSON.stringify(manifest));
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}
