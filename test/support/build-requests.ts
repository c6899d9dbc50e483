import type { BuildRequest } from '../../functions/domain/build-request.js';

/** A push BuildRequest with the given fields changed. */
export function aBuildRequest(overrides: Partial<BuildRequest> = {}): BuildRequest {
  return {
    deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    event: 'push',
    repository: 'acme/api',
    cloneUrl: 'https://github.com/acme/api.git',
    ref: 'refs/heads/main',
    branch: 'main',
    sha: 'a'.repeat(40),
    fromFork: false,
    message: 'Change things',
    sender: 'octocat',
    receivedAt: '2026-11-22T12:00:00.000Z',
    ...overrides,
  };
}
