/** Builders for the agent's tests: a planned stage, a snapshot in the store, a captured output. */
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import type { SecretRef } from '../../functions/domain/pipeline/types.js';
import type { PlannedStage } from '../../functions/domain/plan/types.js';
import { sourceKey } from '../../functions/domain/storage-keys.js';
import type { ArtifactStore } from '../../functions/ports/artifact-store.js';
import type { SecretsProvider } from '../../functions/ports/secrets.js';
import type { TempRepo } from './git-repo.js';

export function plannedStage(overrides: Partial<PlannedStage> & { name: string }): PlannedStage {
  return {
    wave: 0,
    runner: 'lambda',
    reason: 'test',
    timeoutSeconds: 60,
    needs: [],
    upstream: [],
    commands: [],
    env: {},
    secrets: {},
    artifacts: [],
    runAsRoot: false,
    lambda: { memoryMB: 1024, ephemeralStorageMB: 512, architecture: 'arm64' },
    fargate: { cpu: 256, memory: 512, ephemeralStorageGiB: 20, architecture: 'arm64', spot: false },
    predictedDurationSeconds: 60,
    predictedFrom: 'timeout',
    predictedCostUsd: 0,
    ...overrides,
  };
}

/** Stores `git archive` of the repository's commit as the build's snapshot, as the Plan step does. */
export async function storeSnapshot(store: ArtifactStore, buildId: string, repo: TempRepo): Promise<void> {
  const tarball = execFileSync('git', ['archive', '--format=tar.gz', `--prefix=repo-${repo.sha}/`, repo.sha], {
    cwd: repo.path,
  });
  await store.put(sourceKey(buildId), tarball, 'application/gzip');
}

/** Collects what the agent streams live, write by write. */
export class CapturedOutput extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Secret values by reference id, for tests of the port's callers. */
export class MapSecrets implements SecretsProvider {
  readonly asked: string[] = [];
  constructor(private readonly values: Record<string, string>) {}
  async resolve(ref: SecretRef): Promise<string> {
    this.asked.push(ref.id);
    const value = this.values[ref.id];
    if (value === undefined) throw new Error(`no secret ${ref.id}`);
    return value;
  }
}

export function secretRef(id: string): SecretRef {
  return { source: 'secretsmanager', id, raw: `secretsmanager:${id}` };
}
