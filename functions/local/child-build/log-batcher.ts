/**
 * A stage's live log, batched before it crosses the IPC channel: a stage that
 * floods stdout must not become one message per chunk on the farm's event
 * loop. Chunks are joined per stage and sent every `intervalMs`; what waits is
 * capped to its last `limitChars` (the farm's live view keeps no more anyway,
 * and the stored log, capped and whole, is in S3).
 */
export interface LogBatcherOptions {
  send(stage: string, chunk: string): void;
  intervalMs?: number;
  limitChars?: number;
}

export class LogBatcher {
  private readonly waiting = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly limitChars: number;

  constructor(private readonly options: LogBatcherOptions) {
    this.intervalMs = options.intervalMs ?? 100;
    this.limitChars = options.limitChars ?? 1024 * 1024;
  }

  add(stage: string, chunk: string): void {
    const text = (this.waiting.get(stage) ?? '') + chunk;
    this.waiting.set(stage, text.length > this.limitChars ? text.slice(text.length - this.limitChars) : text);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.intervalMs);
  }

  /** Sends what waits for `stage` (all stages when absent) now: before its result, and before the report. */
  flush(stage?: string): void {
    const stages = stage === undefined ? [...this.waiting.keys()] : [stage];
    for (const name of stages) {
      const text = this.waiting.get(name);
      this.waiting.delete(name);
      if (text) this.options.send(name, text);
    }
    if (this.waiting.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
