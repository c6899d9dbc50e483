import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import { SfnWorkflowStarter } from '../adapters/aws/sfn-workflow-starter.js';
import { parseBuildRequest } from '../domain/webhook/parse-build-request.js';
import { startBuild, type StartBuildResult } from './start-build-core.js';

export { startBuild, stopSupersededBuilds } from './start-build-core.js';

/**
 * Subscribed to the BuildRequests topic. SNS invokes Lambda asynchronously:
 * a thrown error makes Lambda retry twice, then the dead-letter queue keeps
 * the message, so every failure other than a duplicate throws.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
 *
 * Environment:
 * - STATE_MACHINE_ARN: the build state machine;
 * - CANCEL_SUPERSEDED: `true` to stop older running builds of the same branch for every
 *   repository (the pipeline file's `cancel-superseded` does it per repository, in the Plan step).
 */

export interface StartBuildHandlerOptions {
  env?: NodeJS.ProcessEnv;
  sfn?: SFNClient;
  logger?: Logger;
  metrics?: Metrics;
}

export function createStartBuildHandler(options: StartBuildHandlerOptions = {}) {
  const env = options.env ?? process.env;
  const logger = options.logger ?? new Logger({ serviceName: 'buildfarm-start-build' });
  const metrics = options.metrics ?? new Metrics({ namespace: 'BuildFarm', serviceName: 'start-build' });
  let starter: SfnWorkflowStarter | undefined;

  async function startBuilds(event: SNSEvent): Promise<StartBuildResult[]> {
    const stateMachineArn = env.STATE_MACHINE_ARN;
    if (!stateMachineArn) throw new Error('STATE_MACHINE_ARN is not set');
    starter ??= new SfnWorkflowStarter(options.sfn ?? new SFNClient({}), stateMachineArn);
    const sfn = starter;
    const results: StartBuildResult[] = [];
    // SNS delivers one record per invocation; the loop is for completeness.
    for (const record of event.Records) {
      const request = parseBuildRequest(record.Sns.Message);
      const result = await startBuild(request, {
        starter: sfn,
        findRunning: (repository, branch) => sfn.findRunning(repository, branch),
        cancelSuperseded: env.CANCEL_SUPERSEDED === 'true',
        logger,
      });
      metrics.addMetric(result.alreadyStarted ? 'BuildDuplicate' : 'BuildStarted', MetricUnit.Count, 1);
      if (result.stopped.length > 0) metrics.addMetric('BuildSuperseded', MetricUnit.Count, result.stopped.length);
      results.push(result);
    }
    return results;
  }

  return middy(startBuilds)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

export const handler = createStartBuildHandler();
