/**
 * The local stand-in for the start-build Lambda's SNS subscription: every
 * BuildRequests message goes through the same `startBuild` logic, which
 * names the execution after the delivery, so a redelivery starts nothing new.
 */
import type { LocalBus } from '../adapters/local/local-bus.js';
import { parseBuildRequest } from '../domain/webhook/parse-build-request.js';
import { startBuild, type StartBuildLogger, type StartBuildResult } from '../handlers/start-build-core.js';
import type { WorkflowStarter } from '../ports/workflow-starter.js';

export function startBuildsFromBus(
  bus: LocalBus,
  starter: WorkflowStarter,
  options: { logger?: StartBuildLogger; onStarted?: (result: StartBuildResult) => void } = {},
): () => void {
  return bus.subscribe('BuildRequests', async (message) => {
    const request = parseBuildRequest(message.message);
    const result = await startBuild(request, { starter, logger: options.logger });
    options.onStarted?.(result);
  });
}
