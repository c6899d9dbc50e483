// Runs the farm's s3rver (embedded-s3.ts) in a process of its own, for tests that measure this
// process's memory. argv: directory bucket. Prints the port on stdout once listening; exits when stdin closes.
import { startEmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';

const [directory, bucket] = process.argv.slice(2);
const server = await startEmbeddedS3(directory!, { bucket });
process.stdout.write(`${new URL(server.endpoint).port}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.close();
  process.exit(0);
});
