/**
 * A stage's live log, batched before it crosses the IPC channel: a stage that
 * floods stdout must not become one message per chunk on the farm's event
 * loop. Chunks are joined per stage and sent every `intervalMs`, one batch on
 * the channel at a time; what waits is capped to its last `limitChars` (the
 * farm's live view keeps no more anyway, and the stored log, capped and whole,
 * is in S3), so a farm slower than the stage never queues unbounded messages.
 */
export interface LogBatcherOptions {
  /** Resolves when the message has left (the IPC channel's callback): until then, no next batch. */
  send(stage: string, chunk: string): void | Promise<void>;
  intervalMs?: number;
  limitChars?: number;
}

export class LogBatcher {
  /** Per stage, the chunks waiting (joined only when sent: a flood must not rebuild a 1 MiB string per chunk). */
  private readonly waiting = new Map<string, { chunks: string[]; length: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly limitChars: number;
  /** A live-log message is still on its way: the next waits (and keeps only its last `limitChars`). */
  private inFlight = 0;

  constructor(private readonly options: LogBatcherOptions) {
    this.intervalMs = options.intervalMs ?? 100;
    this.limitChars = options.limitChars ?? 1024 * 1024;
  }

  add(stage: string, chunk: string): void {
    const entry = this.waiting.get(stage) ?? { chunks: [], length: 0 };
    entry.chunks.push(chunk);
    entry.length += chunk.length;
    // Only the last limitChars are kept: drop whole chunks from the front, then cut the first.
    while (entry.length - entry.chunks[0]!.length >= this.limitChars) entry.length -= entry.chunks.shift()!.length;
    if (entry.length > this.limitChars) {
      const cut = entry.length - this.limitChars;
      entry.chunks[0] = entry.chunks[0]!.slice(cut);
      entry.length -= cut;
    }
    this.waiting.set(stage, entry);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      // Behind on the channel (the farm is slower than the stage prints): wait, keeping only the tail.
      if (this.inFlight > 0) return void this.add(stage, '');
      this.flush();
    }, this.intervalMs);
  }

  /** Sends what waits for `stage` (all stages when absent) now: before its result, and before the report. */
  flush(stage?: string): void {
    const stages = stage === undefined ? [...this.waiting.keys()] : [stage];
    for (const name of stages) {
      const entry = this.waiting.get(name);
      this.waiting.delete(name);
      if (!entry || entry.length === 0) continue;
      this.inFlight += 1;
      const sent = this.options.send(name, entry.chunks.join(''));
      void Promise.resolve(sent).finally(() => (this.inFlight -= 1));
    }
    if (this.waiting.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
