/** The N-th push to `main` of a repository in a test, as the webhook would parse it (a delivery id per N). */
import type { BuildRequest } from '../../functions/domain/build-request.js';

export function numberedPush(repository: string, sha: string, sequence: number): BuildRequest {
  return {
    deliveryId: `00000000-0000-4000-9000-${String(sequence).padStart(12, '0')}`,
    event: 'push',
    repository,
    cloneUrl: `https://github.com/${repository}.git`,
    ref: 'refs/heads/main',
    branch: 'main',
    sha,
    fromFork: false,
    message: 'A pipeline',
    sender: 'octocat',
    receivedAt: new Date().toISOString(),
  };
}
