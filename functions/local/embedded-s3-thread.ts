/**
 * The embedded S3 served from a worker thread (embedded-s3.entry.ts), for `buildfarm run`.
 *
 * Loading s3rver's CommonJS tree (koa, winston, busboy, lodash, read and compiled file by file) is
 * the largest single part of `run`'s start, and `run`'s main thread is busy from its first moment
 * loading the rest of the farm (the AWS SDK, the state machine interpreter): the two loads are
 * independent, so the worker loads s3rver on the other core meanwhile (issue 12's fixed overhead).
 * It is the same s3rver with the same patches (adapters/local/s3rver-server.ts), on the same
 * directory and loopback port, so the farm's files and what any S3 client sees are unchanged; the
 * farm reaches it over HTTP as before. A bonus: serving objects no longer takes turns with the
 * build's own work on one event loop.
 *
 * `load()` starts the worker (it begins loading s3rver at once), `start()` starts the server once
 * the data directory is known, `close()` stops it and ends the thread. A worker that dies after
 * starting (an s3rver bug) is reported through `onCrash`, where before it would have killed the CLI.
 */
import module from 'node:module';
import { Worker } from 'node:worker_threads';
import type { EmbeddedS3 } from '../adapters/local/embedded-s3.js';
import { EMBEDDED_BUCKET } from '../adapters/local/s3rver-server.js';
import type { FromS3Worker, S3WorkerData, ToS3Worker } from './embedded-s3-messages.js';
import { entryCommand } from './farm-entry.js';

/** How long a worker whose server closed may take to end by itself before it is terminated. */
const NATURAL_END_MS = 2000;

const delay = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(resolve, ms, value).unref());

export interface EmbeddedS3ThreadOptions {
  /** The worker stopped on an error while serving (the build then cannot reach its S3). */
  onCrash?(error: Error): void;
}

export class EmbeddedS3ThreadFailed extends Error {
  override readonly name = 'EmbeddedS3ThreadFailed';
}

export class EmbeddedS3Thread {
  private readonly worker: Worker;
  private readonly ended: Promise<void>;
  private ending: Error | undefined;
  private started = false;
  private serving = false;
  private closed = false;

  private constructor(private readonly options: EmbeddedS3ThreadOptions) {
    const entry = entryCommand('embedded-s3');
    const data: S3WorkerData = { compileCache: module.getCompileCacheDir?.() };
    // No execArgv from the bundle: the worker inherits the CLI's Node flags (a profiler's, say).
    this.worker = new Worker(entry.module, { workerData: data, ...(entry.execArgv.length > 0 ? { execArgv: entry.execArgv } : {}) });
    this.ended = new Promise((resolve) => {
      this.worker.once('error', (error) => {
        this.ending = error;
        if (this.serving && !this.closed) this.options.onCrash?.(error);
      });
      this.worker.once('exit', (code) => {
        this.ending ??= new EmbeddedS3ThreadFailed(`the embedded S3's thread exited (code ${code})`);
        resolve();
      });
    });
  }

  /** Starts the worker thread; it loads s3rver while the caller does other things. */
  static load(options: EmbeddedS3ThreadOptions = {}): EmbeddedS3Thread {
    return new EmbeddedS3Thread(options);
  }

  /** Starts the server on `directory` (created if absent); its client and store live in this thread. */
  async start(directory: string, options: { bucket?: string; port?: number } = {}): Promise<EmbeddedS3> {
    if (this.started) throw new Error('this embedded S3 thread has started its server already');
    this.started = true;
    const bucket = options.bucket ?? EMBEDDED_BUCKET;
    // The S3 client's module (the AWS SDK) loads here while the worker starts the server.
    const [{ embeddedS3At }, reply] = await Promise.all([
      import('../adapters/local/embedded-s3.js'),
      this.ask({ type: 'start', directory, bucket, port: options.port ?? 0 }, 'listening').catch((error: NodeJS.ErrnoException) => {
        // s3rver throws a listen error (EADDRINUSE) out of its server, ending the thread: said the same way.
        if (error instanceof EmbeddedS3ThreadFailed) throw error;
        throw Object.assign(new EmbeddedS3ThreadFailed(`the embedded S3 did not start: ${error.message}`), typeof error.code === 'string' ? { code: error.code } : {});
      }),
    ]);
    if (reply.type !== 'listening') throw new EmbeddedS3ThreadFailed(`unexpected reply from the embedded S3's thread: ${reply.type}`);
    this.serving = true;
    return embeddedS3At(`http://127.0.0.1:${reply.port}`, bucket, () => this.close());
  }

  /** Stops the server (if started) and ends the thread; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return this.ended;
    this.closed = true;
    if (this.started && this.ending === undefined) {
      // The worker ends on its own once its server is closed (nothing else keeps it alive).
      const closed = await this.ask({ type: 'close' }, 'closed').then(() => true, () => false);
      if (closed && (await Promise.race([this.ended.then(() => true), delay(NATURAL_END_MS, false)]))) return;
    }
    await this.worker.terminate();
    await this.ended;
  }

  /** Sends `message` and waits for the reply of type `awaited`; a failure or the thread's end rejects. */
  private ask(message: ToS3Worker, awaited: FromS3Worker['type']): Promise<FromS3Worker> {
    if (this.ending) return Promise.reject(this.ending);
    return new Promise((resolve, reject) => {
      const onMessage = (reply: FromS3Worker) => {
        if (reply.type === awaited) finish(() => resolve(reply));
        else if (reply.type === 'failed') finish(() => reject(Object.assign(new EmbeddedS3ThreadFailed(`the embedded S3 did not start: ${reply.message}`), reply.code ? { code: reply.code } : {})));
      };
      const onEnd = () => finish(() => reject(this.ending ?? new EmbeddedS3ThreadFailed("the embedded S3's thread ended")));
      const finish = (settle: () => void) => {
        this.worker.off('message', onMessage);
        this.worker.off('error', onEnd);
        this.worker.off('exit', onEnd);
        settle();
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', onEnd);
      this.worker.on('exit', onEnd);
      this.worker.postMessage(message);
    });
  }
}
