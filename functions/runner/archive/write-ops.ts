/**
 * The file-system operations an extraction performs for files and directories, as a small
 * program run in order by a worker thread (file-writer.ts), or inline where no worker starts.
 *
 * Why a string: the worker is an inline script (no separate file to bundle into the Lambda
 * and Fargate helper bundles, as archive-digest.ts's hasher), and the inline fallback runs
 * the very same text, so both run one implementation of every safety rule below:
 * - files are opened with O_NOFOLLOW (a link planted where a file goes is never written
 *   through: ELOOP, then the link is removed and the open retried, as before);
 * - the permission bits given are the only ones set (the caller masks them to 0o777);
 * - operations run strictly in the order queued, so a directory exists before its files and
 *   a later entry for the same path wins, exactly as a sequential extraction.
 *
 * Operations: ['d', path] makes a directory (recursive; reports the first one it created),
 * ['f', path, mode, offset, length] writes a whole file from the batch's bytes, ['b', path,
 * mode] opens a large file, ['a', offset, length] appends to it, ['e'] closes it.
 */
import * as fs from 'node:fs';

export type WriteOp =
  | ['d', string]
  | ['f', string, number, number, number]
  | ['b', string, number]
  | ['a', number, number]
  | ['e'];

/** What a batch did: the directories it created (first created of each mkdir), or the error that stopped it. */
export interface BatchOutcome {
  created: string[];
  error?: { message: string; code?: string; path?: string };
}

export type ApplyBatch = (ops: WriteOp[], data: Uint8Array) => BatchOutcome;

/** `makeApplier(fs)` returns apply(ops, data). Plain JavaScript: evaluated in the worker and inline. */
export const APPLIER_SOURCE = `
function makeApplier(fs) {
  const FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW;
  let open = -1;
  function openForWrite(path, mode) {
    try {
      return fs.openSync(path, FLAGS, mode);
    } catch (error) {
      if (error.code !== 'ELOOP') throw error;
      // A link already there (from the snapshot or an earlier archive) is replaced, not written through.
      fs.rmSync(path, { force: true });
      return fs.openSync(path, FLAGS, mode);
    }
  }
  function writeAll(fd, data, offset, length) {
    let written = 0;
    while (written < length) written += fs.writeSync(fd, data, offset + written, length - written);
  }
  function closeOpen() {
    if (open >= 0) fs.closeSync(open);
    open = -1;
  }
  return function apply(ops, data) {
    const created = [];
    try {
      for (const op of ops) {
        switch (op[0]) {
          case 'd': {
            const first = fs.mkdirSync(op[1], { recursive: true });
            if (first !== undefined) created.push(first);
            break;
          }
          case 'f': {
            const fd = openForWrite(op[1], op[2]);
            try {
              writeAll(fd, data, op[3], op[4]);
            } finally {
              fs.closeSync(fd);
            }
            break;
          }
          case 'b':
            closeOpen();
            open = openForWrite(op[1], op[2]);
            break;
          case 'a':
            writeAll(open, data, op[1], op[2]);
            break;
          case 'e':
            closeOpen();
            break;
          default:
            throw new Error('unknown write operation ' + String(op[0]));
        }
      }
      return { created };
    } catch (error) {
      try { closeOpen(); } catch {}
      return { created, error: { message: String(error && error.message), code: error && error.code, path: error && error.path } };
    }
  };
}
`;

/** The worker's script: applies each batch it is sent, in order, and answers with its outcome. */
export const WRITER_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
${APPLIER_SOURCE}
const apply = makeApplier(require('node:fs'));
let failed = false;
parentPort.on('message', (message) => {
  // After a failure nothing more is written: the extraction is over.
  const outcome = failed ? { created: [] } : apply(message.ops, new Uint8Array(message.data));
  if (outcome.error) failed = true;
  parentPort.postMessage(outcome);
});
`;

/** The same applier, run on the calling thread (where a worker cannot start, and for small archives). */
export function inlineApplier(): ApplyBatch {
  const makeApplier = new Function(`${APPLIER_SOURCE}\nreturn makeApplier;`)() as (module: typeof fs) => ApplyBatch;
  return makeApplier(fs);
}
