/** A stage's live log, batched before it crosses the IPC channel (functions/local/child-build/log-batcher.ts). */
import { describe, expect, it } from 'vitest';
import { LogBatcher } from '../../functions/local/child-build/log-batcher.js';

describe('Class: LogBatcher', () => {
  it('joins a flood of chunks into one message per stage per interval, keeping only the last characters', async () => {
    // Prepare
    const sent: Array<[string, string]> = [];
    const batcher = new LogBatcher({ send: (stage, chunk) => sent.push([stage, chunk]), intervalMs: 20, limitChars: 10 });

    // Act: 1,000 chunks in one tick
    for (let i = 0; i < 1000; i += 1) batcher.add('flood', `${i % 10}`);
    batcher.add('quiet', 'hello');
    await new Promise((resolve) => setTimeout(resolve, 60));

    // Assess
    expect(sent).toEqual([
      ['flood', '0123456789'],
      ['quiet', 'hello'],
    ]);
  });

  it('sends what waits for a stage at once when flushed (before its result), and nothing twice', () => {
    const sent: Array<[string, string]> = [];
    const batcher = new LogBatcher({ send: (stage, chunk) => sent.push([stage, chunk]), intervalMs: 10_000 });
    batcher.add('a', 'one ');
    batcher.add('b', 'two');
    batcher.flush('a');
    batcher.flush('a');
    expect(sent).toEqual([['a', 'one ']]);
    batcher.flush();
    expect(sent).toEqual([['a', 'one '], ['b', 'two']]);
  });
});
