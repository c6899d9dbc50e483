/**
 * The stage's log: every line goes, masked, both live to an output stream
 * (stdout: CloudWatch Logs on AWS, the terminal locally) and to a file that
 * is uploaded to S3 at the end, whatever the outcome. Both are capped (see
 * log-cap.ts): past half the cap, output is held back and only its last half
 * cap is written at the end, after a marker saying how much was left out.
 *
 * Output stays bytes from the command's pipe to the file (no string per chunk),
 * and `write` says when the file or the live output is behind, so the command's
 * pipe is paused rather than its output queued in memory (run-command.ts).
 *
 * One masker sees everything the log shows, in the order it shows it: a command's
 * stdout and stderr as their chunks arrive (merged), the agent's own lines between
 * them, and one command's output after the one before. A masker per stream would
 * mask each stream alone, but the merged log could still join a secret's first half
 * from stdout to its second half from stderr (or from the next command).
 */
import { closeSync, constants, createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { reopenableFile } from '../ports/artifact-store.js';
import { readFileFromStart } from './file-from-start.js';
import { DEFAULT_LOG_CAP_BYTES, HeadTailCap } from './log-cap.js';
import { SecretMasker } from './secret-masker.js';

/** The kernel's ENOSPC message as tools print it. */
const NO_SPACE = 'No space left on device';
/** Bytes the log file may have queued before `write` asks the command's pipe to wait. */
const FILE_BUFFER_BYTES = 1024 * 1024;

export class StageLog {
  private readonly file: WriteStream;
  /**
   * The log read back through a descriptor opened with the file, before any command runs: on
   * Lambda the commands share the agent's uid and /tmp, and could replace `path` with a FIFO
   * (stalling the upload) or a link (to a huge file) by the time it is uploaded.
   */
  private readFd: number | undefined;
  /** Bytes written to the file: all the upload sends, whatever else the inode grew to. */
  private fileBytes = 0;
  private readonly secrets: string[];
  /** The masker of the merged sequence (see above). */
  private readonly masker: SecretMasker;
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
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
    this.file = createWriteStream(path, { fd: openSync(path, flags, 0o600), highWaterMark: FILE_BUFFER_BYTES });
    this.readFd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    // An unwritable log file must not crash the process; the upload reports it.
    this.file.on('error', () => undefined);
    this.secrets = [...secrets];
    this.masker = new SecretMasker(this.secrets);
  }

  /** Writes a line the agent itself says (masked too: a command line may contain a value). */
  line(text: string): void {
    this.raw(this.mask(text) + '\n');
  }

  /** The text with every secret value replaced (for anything that leaves the agent, such as the result's reason). */
  mask(text: string): string {
    return new SecretMasker(this.secrets).mask(text);
  }

  /** Writes text the agent says (through the log's masker too, so it cannot complete a secret held back before it). */
  raw(text: string): void {
    if (text.length > 0) this.write(Buffer.from(text));
  }

  /**
   * Writes a command's output (either stream, as it arrives), masked. False when the log
   * file or the live output has more queued than it wants: the caller waits for `drained()`
   * before it writes more.
   */
  write(chunk: Buffer): boolean {
    if (chunk.length === 0 || this.closed) return true;
    return this.writeMasked(this.masker.push(chunk));
  }

  private writeMasked(masked: Buffer): boolean {
    if (masked.length === 0) return true;
    if (masked.includes(NO_SPACE)) this.sawNoSpace = true;
    const { now, justOverflowed } = this.cap.take(masked);
    let ready = now.length === 0 || this.emit(now);
    if (justOverflowed) {
      ready = this.toOutput(`\n[buildfarm: the log reached half its ${this.cap.capBytes}-byte cap; further output is held back and its end is written when the stage ends]\n`) && ready;
    }
    return ready;
  }

  /** Resolves once the log file and the live output have taken what they were given. */
  async drained(): Promise<void> {
    await Promise.all([whenDrained(this.file), whenDrained(this.output)]);
  }

  /** Bytes of output left out of the log by the cap. */
  get droppedBytes(): number {
    return this.cap.droppedBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.writeMasked(this.masker.flush());
    this.closed = true;
    for (const part of this.cap.finish()) this.emit(part);
    await new Promise<void>((resolve) => this.file.end(() => resolve()));
  }

  private emit(bytes: Buffer): boolean {
    this.fileBytes += bytes.length;
    const fileReady = this.file.write(bytes);
    return this.toOutput(bytes) && fileReady;
  }

  private toOutput(bytes: Buffer | string): boolean {
    this.sentBytes += Buffer.byteLength(bytes);
    return this.output.write(bytes) !== false;
  }

  /** Bytes written to the live output: on Lambda, stdout, which CloudWatch Logs ingests (and bills). */
  get outputBytes(): number {
    return this.sentBytes;
  }

  /**
   * The stored log: the bytes this log wrote, read through its own descriptor (the store may
   * read them again from the start, see ReopenableFile). Call `release` once it is stored.
   */
  contents(): Readable {
    if (this.readFd === undefined) throw new Error(`the stage log ${this.path} was released`);
    const fd = this.readFd;
    const length = this.fileBytes;
    return reopenableFile(readFileFromStart(fd, length), () => readFileFromStart(fd, length), length);
  }

  /** Closes the descriptor `contents` reads through (a warm Lambda sandbox must not collect them). */
  release(): void {
    if (this.readFd === undefined) return;
    closeSync(this.readFd);
    this.readFd = undefined;
  }
}

/** Resolves when `stream` needs no 'drain' (now, or once it drains, fails or closes). */
function whenDrained(stream: NodeJS.WritableStream): Promise<void> {
  const writable = stream as NodeJS.WritableStream & { writableNeedDrain?: boolean; destroyed?: boolean };
  if (writable.writableNeedDrain !== true || writable.destroyed === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}
