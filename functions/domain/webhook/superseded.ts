import type { BuildRequest } from '../build-request.js';
import type { RunningBuild } from './execution-input.js';

/**
 * The running builds that `newer` makes pointless: same repository, same
 * event, same branch (and, for pull requests, the same pull request), and
 * received strictly earlier. Comparing receipt times means a delivery that
 * arrives late never stops the build of a newer push.
 */
export function supersededBy(newer: BuildRequest, running: readonly RunningBuild[]): RunningBuild[] {
  const newerAt = Date.parse(newer.receivedAt);
  return running.filter(({ input: { request, buildId } }) => {
    if (request.deliveryId === newer.deliveryId) return false;
    if (request.repository.toLowerCase() !== newer.repository.toLowerCase()) return false;
    if (request.event !== newer.event || request.branch !== newer.branch) return false;
    if (request.pullRequest !== newer.pullRequest) return false;
    const olderAt = Date.parse(request.receivedAt);
    return Number.isFinite(olderAt) && olderAt < newerAt && buildId.length > 0;
  });
}

/**
 * The running builds that the build `current` (itself running, in its Plan step) stops when its
 * pipeline file opts into `cancel-superseded`: the older builds it supersedes (`supersededBy`),
 * never itself, whether the list names it by execution ARN or by build id.
 */
export function buildsToStop(current: RunningBuild, running: readonly RunningBuild[]): RunningBuild[] {
  const others = running.filter((build) => build.executionArn !== current.executionArn && build.input.buildId !== current.input.buildId);
  return supersededBy(current.input.request, others);
}
