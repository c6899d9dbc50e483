/** A stage's live log, batched before it crosses the IPC channel (functions/local/child-build/log-batcher.ts). */
import { describe, expect, it } from 'vitest';
import { LogBatcher } from '../../functions/local/child-build/log-batcher.js';

describe('Class: LogBatcher', () => {
  it('joins a flood of chunks into one message per stage per interval, keeping only the last characters', async () => {
    // Prepare
    const sent: Array<[string, string]> = [];
    const batcher = new LogBatcher({ send: (stage, chunk) => void sent.push([stage, chunk]), intervalMs: 20, limitChars: 10 });

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
    const batcher = new LogBatcher({ send: (stage, chunk) => void sent.push([stage, chunk]), intervalMs: 10_000 });
    batcher.add('a', 'one ');
    batcher.add('b', 'two');
    batcher.flush('a');
    batcher.flush('a');
    expect(sent).toEqual([['a', 'one ']]);
    batcher.flush();
    expect(sent).toEqual([['a', 'one '], ['b', 'two']]);
  });

  it('keeps one batch on the channel at a time: while the farm has not taken the last, only the newest characters wait', async () => {
    // Prepare: a channel the test answers by hand (a farm slower than the stage prints)
    const sent: Array<[string, string]> = [];
    const taken: Array<() => void> = [];
    const batcher = new LogBatcher({
      send: (stage, chunk) => {
        sent.push([stage, chunk]);
        return new Promise<void>((resolve) => taken.push(resolve));
      },
      intervalMs: 10,
      limitChars: 4,
    });

    // Act: a first batch goes; then many chunks while it is in flight, for several intervals
    batcher.add('flood', 'aaaa');
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (let i = 0; i < 1000; i += 1) batcher.add('flood', `${i % 10}`);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const whileInFlight = sent.length;
    taken.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 60));

    // Assess: nothing more was sent while the first was in flight; then only the last 4 characters
    expect(whileInFlight).toBe(1);
    expect(sent).toEqual([['flood', 'aaaa'], ['flood', '6789']]);
  });
});
