/** runBounded: at most `limit` tasks in flight, every task run, the first failure thrown after all settled. */
import { describe, expect, it } from 'vitest';
import { runBounded } from '../../functions/domain/run-bounded.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('Function: runBounded', () => {
  it('never has more than the limit in flight, and runs every task', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    const tasks = Array.from({ length: 20 }, (_, index) => async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await tick();
      inFlight -= 1;
      done.push(index);
    });
    await runBounded(tasks, 3);
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });

  it('throws the first failure only once every other task has settled', async () => {
    const finished: number[] = [];
    const tasks = [0, 1, 2, 3].map((index) => async () => {
      await tick();
      if (index === 1) throw new Error('task 1 failed');
      await tick();
      finished.push(index);
    });
    await expect(runBounded(tasks, 2)).rejects.toThrow('task 1 failed');
    expect(finished.sort()).toEqual([0, 2, 3]);
  });

  it('does nothing for no tasks', async () => {
    await expect(runBounded([], 4)).resolves.toBeUndefined();
  });
});
