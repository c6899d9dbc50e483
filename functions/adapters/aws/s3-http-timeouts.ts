/**
 * Timeouts for the stage runner's S3 clients (the Lambda runner and the Fargate helpers). The
 * SDK sets none by default: a connection that never opens, or one that goes silent mid-answer,
 * holds a stage until Lambda's or the task's own timeout.
 *
 * What the options mean in the installed @smithy/node-http-handler (4.x; read in
 * node_modules/@smithy/node-http-handler/dist-cjs/index.js and @smithy/types
 * httpHandlerInitialization.d.ts):
 * - `connectionTimeout`: from the socket's creation until it connects (DNS included). Nothing
 *   about the transfer, so it cannot cut a long upload or download.
 * - `socketTimeout`: `socket.setTimeout`, an INACTIVITY timeout, armed until the request closes,
 *   which for a GetObject is when its body has been read. Any byte sent or received re-arms it,
 *   so a long transfer that progresses never trips it; a silent one fails with TimeoutError
 *   ("the request socket timed out after N ms of inactivity"), in the request (the SDK retries
 *   it) or in a body (the resumable read resumes it: resumable-body.ts).
 * - `requestTimeout` is NOT set: in this version it is a wall-clock limit on the whole request
 *   (it was an idle timeout in older releases), which would cut a large part upload on a slow
 *   link, and it only logs a warning unless `throwOnRequestTimeout` is set.
 *
 * The values follow botocore (the AWS CLI's `aws s3 cp` of any size), whose default
 * read_timeout is 60 s of socket inactivity
 * (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-options.html, `--cli-read-timeout`).
 * S3 keeps a slow CompleteMultipartUpload alive by sending whitespace
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html), so 60 s of
 * silence is a dead connection, not a busy S3. A regional endpoint connects in milliseconds;
 * 10 s leaves room for a loaded host, and with the SDK's 3 attempts a host that cannot reach S3
 * at all fails in about 30 s instead of at the stage's timeout.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

export const S3_CONNECTION_TIMEOUT_MS = 10_000;
export const S3_SOCKET_IDLE_TIMEOUT_MS = 60_000;

/** `requestHandler` settings for a runner's S3Client (NodeHttpHandler options; the SDK builds the handler). */
export const RUNNER_S3_REQUEST_HANDLER = {
  connectionTimeout: S3_CONNECTION_TIMEOUT_MS,
  socketTimeout: S3_SOCKET_IDLE_TIMEOUT_MS,
} as const satisfies S3ClientConfig['requestHandler'];
