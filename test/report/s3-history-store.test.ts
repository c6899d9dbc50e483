import { describe, expect, it } from 'vitest';
import { S3HistoryStore } from '../../functions/adapters/s3-history-store.js';
import { HISTORY_WINDOW } from '../../functions/domain/plan/predict.js';
import { parsePipeline } from '../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../functions/domain/plan/planner.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import type { ArtifactStore } from '../../functions/ports/artifact-store.js';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { startS3rver } from '../support/s3rver.js';
import { MemoryArtifactStore } from './support/memory-store.js';

/** The history store only needs the ArtifactStore port: the same cases run in memory and over the S3 protocol. */
const STORES: [string, () => Promise<{ store: ArtifactStore; stop(): Promise<void> }>][] = [
  ['memory', async () => ({ store: new MemoryArtifactStore(), stop: async () => undefined })],
  [
    's3rver',
    async () => {
      const s3 = await startS3rver();
      return { store: new S3ArtifactStore(s3.client, s3.bucket), stop: () => s3.stop() };
    },
  ],
];

const run = (durationMs: number, overrides: Partial<{ peakMemoryMiB: number; peakDiskMiB: number; escalated: boolean }> = {}) => ({
  durationMs,
  peakMemoryMiB: 500,
  peakDiskMiB: 100,
  escalated: false,
  ...overrides,
});

describe.each(STORES)('Class: S3HistoryStore (%s)', (_, open) => {
  describe('Method: recordRun', () => {
    it('writes the stage history at history/{owner}/{repo}/{stage}.json', async () => {
      // Prepare
      const { store, stop } = await open();
      const history = new S3HistoryStore(store);

      // Act
      await history.recordRun('acme/api', 'test', run(61_000, { peakMemoryMiB: 900, peakDiskMiB: 300 }));

      // Assess
      expect(JSON.parse((await store.getText('history/acme/api/test.json'))!)).toEqual({ durationsMs: [61_000], peakMemoryMiB: 900, peakDiskMiB: 300, escalated: false });
      await stop();
    });

    it('adds each run to the earlier ones, newest last, keeping the window', async () => {
      // Prepare
      const { store, stop } = await open();
      const history = new S3HistoryStore(store);
      const durations = Array.from({ length: HISTORY_WINDOW + 3 }, (_, i) => 1000 * (i + 1));

      // Act
      for (const duration of durations) await history.recordRun('acme/api', 'build', run(duration));
      const loaded = await history.loadHistory('acme/api', ['build']);

      // Assess
      expect(loaded.build!.durationsMs).toEqual(durations.slice(-HISTORY_WINDOW));
      await stop();
    });

    it('remembers that a stage was escalated from Lambda', async () => {
      // Prepare
      const { store, stop } = await open();
      const history = new S3HistoryStore(store);

      // Act
      const recorded = await history.recordRun('acme/api', 'package', run(400_000, { escalated: true }));

      // Assess
      expect(recorded.escalated).toBe(true);
      expect((await history.loadHistory('acme/api', ['package'])).package!.escalated).toBe(true);
      await stop();
    });
  });

  describe('Method: loadHistory', () => {
    it('returns the stages that have history and leaves the others out', async () => {
      // Prepare
      const { store, stop } = await open();
      const history = new S3HistoryStore(store);
      await history.recordRun('acme/api', 'build', run(5000));
      await history.recordRun('acme/web', 'test', run(7000));

      // Act
      const loaded = await history.loadHistory('acme/api', ['build', 'test', 'build']);

      // Assess
      expect(loaded).toEqual({ build: { durationsMs: [5000], peakMemoryMiB: 500, peakDiskMiB: 100, escalated: false } });
      await stop();
    });

    it('treats a corrupt or foreign history object as no history', async () => {
      // Prepare
      const { store, stop } = await open();
      await store.put('history/acme/api/build.json', '{not json');
      await store.put('history/acme/api/test.json', JSON.stringify({ durationsMs: ['1'], peakMemoryMiB: 1, peakDiskMiB: 1, escalated: false }));
      await store.put('history/acme/api/lint.json', JSON.stringify({ durationsMs: [1], peakMemoryMiB: -1, peakDiskMiB: 1, escalated: false }));

      // Act
      const loaded = await new S3HistoryStore(store).loadHistory('acme/api', ['build', 'test', 'lint']);

      // Assess
      expect(loaded).toEqual({});
      await stop();
    });

    it('gives the planner what it needs to move a stage that outgrew Lambda to Fargate', async () => {
      // Prepare: a stage that fits Lambda by its timeout, but ran out of time there last build.
      const { store, stop } = await open();
      const history = new S3HistoryStore(store);
      const pipeline = parsePipeline('version: 1\nstages:\n  build:\n    timeout: 10m\n    commands: [make]\n');
      const config = { region: 'us-east-1', lambdaEphemeralStorageMB: 512 };
      const before = planPipeline(pipeline, { event: 'push', branch: 'main' }, config, { prices: DEFAULT_PRICE_BOOK });
      await history.recordRun('acme/api', 'build', run(620_000, { escalated: true }));

      // Act
      const loaded = await history.loadHistory('acme/api', ['build']);
      const planned = planPipeline(pipeline, { event: 'push', branch: 'main' }, config, { prices: DEFAULT_PRICE_BOOK, history: loaded });

      // Assess
      expect(before.stages[0]).toMatchObject({ name: 'build', runner: 'lambda', predictedFrom: 'timeout' });
      expect(planned.stages[0]).toMatchObject({ name: 'build', runner: 'fargate', predictedFrom: 'history' });
      await stop();
    });
  });
});
