/**
 * The build container's log file as publish uploads it: read without trusting the logs
 * volume (the build user wrote it), masked with the stage's secrets, capped like any stage log.
 */
import { constants, createReadStream, openSync } from 'node:fs';
import { pipeline, Readable, Transform } from 'node:stream';
import { capStream } from '../log-cap.js';
import { SecretMasker } from '../secret-masker.js';

/** The log file's bytes through the agent's masker (a secret split across chunks is still caught). */
export function maskedLog(path: string, values: string[]): Readable {
  const masker = new SecretMasker(values);
  const masking = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, masker.push(chunk));
    },
    flush(callback) {
      callback(null, masker.flush());
    },
  });
  const file = readLogFile(path);
  file.on('error', (error) => masking.destroy(error));
  return file.pipe(masking);
}

/**
 * The build user wrote the logs volume: never follow a link it may have put in the log's
 * place (to a helper's /proc/self/environ, which holds the grant), never block on a FIFO.
 */
export function readLogFile(path: string): Readable {
  return createReadStream(path, { fd: openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK) });
}

/** The log through the stage-log cap; a read error fails the upload instead of truncating silently. */
export function cappedLog(source: Readable, capBytes?: number): Readable {
  return pipeline(source, capStream(capBytes), () => undefined);
}
