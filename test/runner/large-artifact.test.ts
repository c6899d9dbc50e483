import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore, UPLOAD_PART_SIZE, UPLOAD_QUEUE_SIZE } from '../../functions/adapters/aws/s3-artifact-store.js';
import { DIGEST_BATCHES } from '../../functions/runner/archive/archive-digest.js';
import type { ArtifactManifest } from '../../functions/domain/report/types.js';
import { artifactArchiveKey, manifestKey } from '../../functions/domain/storage-keys.js';
import { runStage } from '../../functions/runner/agent.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../support/stages.js';

const MiB = 1024 * 1024;
/**
 * Big enough that holding it would show: the uploader holds at most (queueSize + 1) x partSize of parts (88 MiB
 * with the defaults), in buffers it reuses, and the digest at most DIGEST_BATCHES x 1 MiB.
 */
const SIZE = 400 * MiB;

describe('Function: runStage (large artifact)', () => {
  let s3: RunningS3rver;
  let repo: TempRepo;
  let workRoot: string;
  const commands: string[] = [];

  beforeAll(async () => {
    s3 = await startS3rver({ ownProcess: true });
    // Record every S3 operation the client sends, to see which upload path was taken.
    s3.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    repo = await makeGitRepo({ 'README.md': 'x\n' });
    workRoot = await mkdtemp(join(tmpdir(), 'agent-large-'));
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
    await rm(workRoot, { recursive: true, force: true });
  });

  it('streams a 400 MiB artifact as a multipart upload while memory stays far below its size', async () => {
    // Prepare: a sparse 400 MiB file (fast to make, real bytes to read)
    const store = new S3ArtifactStore(s3.client, s3.bucket);
    await storeSnapshot(store, 'big', repo);
    const stage = plannedStage({ name: 'big', commands: [`truncate -s ${SIZE} big.bin`], artifacts: ['big.bin'] });
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    // Act
    const result = await runStage(
      { buildId: 'big', stage, runner: 'fargate', workRoot, deadline: Date.now() + 120_000 },
      { store, secrets: new MapSecrets({}), now: Date.now, output: new CapturedOutput() },
    );
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    // Assess
    expect(result).toMatchObject({ status: 'succeeded', artifactCount: 1, artifactBytes: SIZE });
    expect(commands).toContain('CreateMultipartUploadCommand');
    expect(commands.filter((name) => name === 'UploadPartCommand').length).toBeGreaterThanOrEqual(SIZE / (8 * MiB));
    expect(commands).toContain('CompleteMultipartUploadCommand');
    const manifest = JSON.parse((await store.getText(manifestKey('big', 'big')))!) as ArtifactManifest;
    expect(manifest.artifacts[0]!.size).toBe(SIZE);
    let stored = 0;
    for await (const object of store.list(artifactArchiveKey('big', 'big'))) stored += object.size;
    // The file plus its tar header and padding, and the two end-of-archive blocks.
    expect(stored).toBe(manifest.archive!.bytes);
    expect(stored).toBeGreaterThan(SIZE);
    expect(stored).toBeLessThan(SIZE + 4096);
    // Memory: the file never sits in memory; growth is bounded by the upload's buffers, not the file's size:
    // the part pool, the digest's batches, and room for the hashing worker's own heap and the SDK.
    console.info(`RSS growth uploading ${SIZE / MiB} MiB: ${Math.round((peak - baseline) / MiB)} MiB`);
    expect(peak - baseline).toBeLessThan((UPLOAD_QUEUE_SIZE + 1) * UPLOAD_PART_SIZE + DIGEST_BATCHES * MiB + 56 * MiB);
  });
});
