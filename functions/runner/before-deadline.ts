/**
 * Bounds a stage's own transfers by its deadline, so a slow download or upload ends the stage
 * as StageTimeout with a result, rather than running into the runner's hard limit (Lambda's
 * timeout, the task's stop) where it would end with none.
 */
import { StageTimeout } from './errors.js';

/**
 * Settles with `work`, or fails with StageTimeout once the deadline passes
 * (a slow download or upload must not run into the runner's own hard limit,
 * where the stage would end without a result). The abandoned work is left
 * to finish or fail on its own; its outcome is ignored.
 */
export async function beforeDeadline<T>(job: { deadline: number }, deps: { now: () => number }, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new StageTimeout(`the deadline passed while ${what}`)),
      Math.max(0, job.deadline - deps.now()),
    );
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
