/**
 * The stage's log: every line goes, masked, both live to an output stream
 * (stdout: CloudWatch Logs on AWS, the terminal locally) and to a file that
 * is uploaded to S3 at the end, whatever the outcome. Both are capped (see
 * log-cap.ts): past half the cap, output is held back and only its last half
 * cap is written at the end, after a marker saying how much was left out.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DEFAULT_LOG_CAP_BYTES, HeadTailCap } from './log-cap.js';
import { SecretMasker } from './secret-masker.js';

/** The kernel's ENOSPC message as tools print it. */
const NO_SPACE = 'No space left on device';

export class StageLog {
  private readonly file: WriteStream;
  private readonly secrets: string[];
  private closed = false;
  private readonly cap: HeadTailCap;
  private sentBytes = 0;
  /** Set when any output mentioned ENOSPC: a failing command then counts as OutOfDisk. */
  sawNoSpace = false;

  constructor(
    readonly path: string,
    private readonly output: NodeJS.WritableStream,
    secrets: Iterable<string> = [],
    options: { capBytes?: number } = {},
  ) {
    this.cap = new HeadTailCap(options.capBytes ?? DEFAULT_LOG_CAP_BYTES);
    this.file = createWriteStream(path);
    // An unwritable log file must not crash the process; the upload reports it.
    this.file.on('error', () => undefined);
    this.secrets = [...secrets];
  }

  /** A masker for one source of chunks (each child stream gets its own, so split secrets are caught per stream). */
  masker(): SecretMasker {
    return new SecretMasker(this.secrets);
  }

  /** Writes a line the agent itself says (masked too: a command line may contain a value). */
  line(text: string): void {
    this.raw(this.mask(text) + '\n');
  }

  /** The text with every secret value replaced (for anything that leaves the agent, such as the result's reason). */
  mask(text: string): string {
    return new SecretMasker(this.secrets).mask(text);
  }

  /** Writes already-masked text. */
  raw(masked: string): void {
    if (masked.length === 0 || this.closed) return;
    if (masked.includes(NO_SPACE)) this.sawNoSpace = true;
    const { now, justOverflowed } = this.cap.take(Buffer.from(masked));
    if (now.length > 0) this.write(now);
    if (justOverflowed) {
      this.toOutput(`\n[buildfarm: the log reached half its ${this.cap.capBytes}-byte cap; further output is held back and its end is written when the stage ends]\n`);
    }
  }

  /** Bytes of output left out of the log by the cap. */
  get droppedBytes(): number {
    return this.cap.droppedBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const end = this.cap.finish();
    if (end.length > 0) this.write(end);
    await new Promise<void>((resolve) => this.file.end(() => resolve()));
  }

  private write(bytes: Buffer): void {
    this.file.write(bytes);
    this.toOutput(bytes);
  }

  private toOutput(bytes: Buffer | string): void {
    this.sentBytes += Buffer.byteLength(bytes);
    this.output.write(bytes);
  }

  /** Bytes written to the live output: on Lambda, stdout, which CloudWatch Logs ingests (and bills). */
  get outputBytes(): number {
    return this.sentBytes;
  }

  contents(): Readable {
    return createReadStream(this.path);
  }
}
