import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBus, type BusMessage } from '../../../functions/adapters/local/local-bus.js';

describe('Class: LocalBus', () => {
  let directory: string;
  let file: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-bus-'));
    file = join(directory, 'bus', 'messages.jsonl');
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  describe('Method: publish', () => {
    it('delivers a message to the subscribers of its topic only, after acknowledging it', async () => {
      // Prepare
      const bus = await LocalBus.open({ file });
      const requests: BusMessage[] = [];
      const reports: BusMessage[] = [];
      bus.subscribe('BuildRequests', (message) => void requests.push(message));
      bus.subscribe('BuildReports', (message) => void reports.push(message));
      // Act
      const { messageId } = await bus.notifier('BuildRequests').publish('{"sha":"abc"}', { repository: 'o/r' });
      const deliveredBeforeIdle = requests.length;
      await bus.idle();
      // Assess
      expect(deliveredBeforeIdle).toBe(0);
      expect(requests).toEqual([expect.objectContaining({ messageId, topic: 'BuildRequests', message: '{"sha":"abc"}', attributes: { repository: 'o/r' } })]);
      expect(reports).toEqual([]);
    });

    it('keeps every message on disk, so a new bus on the same file has them', async () => {
      // Prepare
      const first = await LocalBus.open({ file });
      await first.publish('BuildRequests', 'one');
      await first.publish('BuildReports', 'two', { buildId: 'b1' });
      await first.idle();
      // Act
      const second = await LocalBus.open({ file });
      // Assess
      expect(second.messages().map((m) => m.message)).toEqual(['one', 'two']);
      expect(second.messages('BuildReports')).toEqual([expect.objectContaining({ message: 'two', attributes: { buildId: 'b1' } })]);
    });

    it('skips a last line cut short by a crash and keeps the rest', async () => {
      // Prepare
      const bus = await LocalBus.open({ file });
      await bus.publish('BuildRequests', 'kept');
      await bus.idle();
      const { appendFile } = await import('node:fs/promises');
      await appendFile(file, '{"messageId":"x","topic":"Build');
      // Act
      const reopened = await LocalBus.open({ file });
      // Assess
      expect(reopened.messages().map((m) => m.message)).toEqual(['kept']);
      expect((await readFile(file, 'utf8')).split('\n')[0]).toContain('"kept"');
    });
  });

  describe('Method: subscribe', () => {
    it('reports a subscriber that throws and still delivers to the others', async () => {
      // Prepare
      const errors: unknown[] = [];
      const bus = await LocalBus.open({ onDeliveryError: (error) => errors.push(error) });
      const delivered: string[] = [];
      bus.subscribe('BuildRequests', () => {
        throw new Error('start-build failed');
      });
      bus.subscribe('BuildRequests', (message) => void delivered.push(message.message));
      // Act
      await bus.publish('BuildRequests', 'hello');
      await bus.idle();
      // Assess
      expect(delivered).toEqual(['hello']);
      expect(errors).toEqual([expect.objectContaining({ message: 'start-build failed' })]);
    });

    it('stops delivering after unsubscribing', async () => {
      // Prepare
      const bus = await LocalBus.open();
      const delivered: string[] = [];
      const unsubscribe = bus.subscribe('BuildReports', (message) => void delivered.push(message.message));
      // Act
      unsubscribe();
      await bus.publish('BuildReports', 'late');
      await bus.idle();
      // Assess
      expect(delivered).toEqual([]);
      expect(bus.messages('BuildReports')).toHaveLength(1);
    });
  });
});
