/**
 * Uploads a workspace's files as a stage's artifacts, the way the stage agent does
 * (findArtifacts, then uploadArtifacts through the S3ArtifactStore), to the S3 endpoint
 * given, and prints the time and this process's peak RSS (process.resourceUsage().maxRSS).
 *
 *   node --import tsx bench/workers/upload.ts <endpoint> <bucket> <workspace> <buildId>
 *
 * BENCH_UPLOAD_PART_MIB and BENCH_UPLOAD_QUEUE override the store's part size and parts in
 * flight, to compare settings by hand.
 */
import { s3rverClient } from '../../functions/adapters/local/s3rver-client.js';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { findArtifacts, uploadArtifacts } from '../../functions/runner/artifacts.js';
import { msSince } from '../lib/stats.js';

const [endpoint, bucket, workspace, buildId] = process.argv.slice(2);
// s3rver-client.ts, not embedded-s3.ts: that one loads s3rver itself, which would inflate the RSS measured here.
const client = s3rverClient(endpoint);
const tuning = {
  ...(process.env.BENCH_UPLOAD_PART_MIB ? { partSize: Number(process.env.BENCH_UPLOAD_PART_MIB) * 1048576 } : {}),
  ...(process.env.BENCH_UPLOAD_QUEUE ? { queueSize: Number(process.env.BENCH_UPLOAD_QUEUE) } : {}),
};
const store = new S3ArtifactStore(client, bucket, tuning);
const rssBeforeMiB = process.memoryUsage().rss / 1048576;

const cpuBefore = process.cpuUsage();
const findStart = process.hrtime.bigint();
const found = await findArtifacts(workspace, ['**']);
const findMs = msSince(findStart);
const uploadStart = process.hrtime.bigint();
const manifest = await uploadArtifacts(workspace, found.files, { buildId, stage: 'upload' }, store);
const uploadMs = msSince(uploadStart);
client.destroy();

console.log(
  JSON.stringify({
    files: manifest.artifacts.length,
    bytes: manifest.artifacts.reduce((sum, entry) => sum + entry.size, 0),
    archiveBytes: manifest.archive?.bytes ?? 0,
    findMs,
    uploadMs,
    rssBeforeMiB,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    // From the search on: not Node's start nor tsx compiling this worker.
    cpuMs: ((cpu) => (cpu.user + cpu.system) / 1000)(process.cpuUsage(cpuBefore)),
  }),
);
