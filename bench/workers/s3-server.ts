/**
 * The embedded S3 (s3rver, as the local farm runs it) in a process of its own, so the
 * uploader's peak RSS is the uploader's alone. Prints `{"endpoint":...,"bucket":...}`
 * when listening; stops when stdin closes.
 */
import { startEmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { stdinClosed } from '../lib/child.js';

const s3 = await startEmbeddedS3(process.argv[2]);
console.log(JSON.stringify({ endpoint: s3.endpoint, bucket: s3.bucket }));
await stdinClosed();
await s3.close();
