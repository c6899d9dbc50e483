/**
 * Runs tasks with at most `limit` in flight, in order of the list: many small writes or reads
 * (plan slices to S3, a build's objects out of the embedded S3) without a request per task at once.
 * Every task runs even when one fails; the first failure is thrown once all have settled, so no
 * task is left running behind the caller's back.
 */
export async function runBounded(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task().catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failures.length > 0) throw failures[0];
}
