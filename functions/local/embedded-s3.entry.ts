/**
 * A worker thread serving the embedded S3 (local/embedded-s3-thread.ts starts it): it loads s3rver
 * as soon as it starts, while the main thread loads the rest of the farm and asks git what to build,
 * then starts the server when told where its data is. Named `*.entry.ts` so scripts/bundle.mjs
 * bundles it beside the CLI (farm-entry.ts finds it).
 */
import module from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { loadS3rver, startS3rver, type RunningS3rver } from '../adapters/local/s3rver-server.js';
import type { FromS3Worker, S3WorkerData, ToS3Worker } from './embedded-s3-messages.js';

const port = parentPort;
if (port === null) throw new Error('embedded-s3.entry runs as a worker thread (local/embedded-s3-thread.ts starts it)');
const data = (workerData ?? {}) as S3WorkerData;
if (data.compileCache && typeof module.enableCompileCache === 'function') module.enableCompileCache(data.compileCache);

const say = (message: FromS3Worker) => port.postMessage(message);
// Loading starts now; a failure is reported when the server is asked to start.
const loading = loadS3rver();
loading.catch(() => undefined);
let server: RunningS3rver | undefined;

port.on('message', (message: ToS3Worker) => {
  if (message.type === 'start') {
    startS3rver(message.directory, { bucket: message.bucket, port: message.port }).then(
      (running) => {
        server = running;
        say({ type: 'listening', port: running.port });
      },
      (error: NodeJS.ErrnoException) => say({ type: 'failed', message: error.message, ...(typeof error.code === 'string' ? { code: error.code } : {}) }),
    );
  } else if (message.type === 'close') {
    const closing = server?.close() ?? Promise.resolve();
    void closing.finally(() => {
      say({ type: 'closed' });
      port.close();
    });
  }
});
