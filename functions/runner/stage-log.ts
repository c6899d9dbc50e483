/**
 * The stage's log: every line goes, masked, both live to an output stream
 * (stdout: CloudWatch Logs on AWS, the terminal locally) and to a file that
 * is uploaded to S3 at the end, whatever the outcome.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { SecretMasker } from './secret-masker.js';

/** The kernel's ENOSPC message as tools print it. */
const NO_SPACE = 'No space left on device';

export class StageLog {
  private readonly file: WriteStream;
  private readonly secrets: string[];
  private closed = false;
  /** Set when any output mentioned ENOSPC: a failing command then counts as OutOfDisk. */
  sawNoSpace = false;

  constructor(
    readonly path: string,
    private readonly output: NodeJS.WritableStream,
    secrets: Iterable<string> = [],
  ) {
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
    this.file.write(masked);
    this.output.write(masked);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.file.end(() => resolve()));
  }

  contents(): Readable {
    return createReadStream(this.path);
  }
}
