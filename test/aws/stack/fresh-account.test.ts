/**
 * What stops or spoils a first `sam deploy` on a fresh account (issue 9, defects 2, 3, 10, 14, 15),
 * checked on the SAM-translated template with its parameters resolved.
 */
import { describe, expect, it } from 'vitest';
import { undocumentedVariables } from '../../support/aws-docs/http-api-access-log-variables.js';
import { DEFAULT_STACK, StackResolver } from '../../support/iam/resolve-intrinsics.js';
import { samTranslatorUnavailable, translatedTemplate } from '../../support/iam/sam-template.js';

const unavailable = samTranslatorUnavailable();
if (unavailable) console.warn(`SKIPPED fresh-account checks on the SAM-translated template: ${unavailable}`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Lambda keeps 100 units of an account's concurrency unreserved: functions may reserve at most the
 * account limit minus 100, so an account whose limit is 100 or less (new accounts may have 10)
 * can reserve nothing (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
const UNRESERVED_MINIMUM = 100;
function reservable(accountLimit: number): number {
  return Math.max(0, accountLimit - UNRESERVED_MINIMUM);
}

const CONTROL_PLANE = ['WebhookFunction', 'StartBuildFunction', 'PlanFunction', 'ScheduleFunction', 'ReportFunction', 'FargatePrepareFunction', 'StageCredentialsFunction'];

describe.skipIf(unavailable !== undefined)('fresh-account deployment (SAM-translated template)', () => {
  const template = unavailable ? { Resources: {} } : translatedTemplate();
  const stackWith = (parameters: Record<string, string> = {}) =>
    new StackResolver(template, { ...DEFAULT_STACK, parameters: { ...DEFAULT_STACK.parameters, ...parameters } });

  describe('ECS service-linked role (defect 2)', () => {
    const roles = (stack: StackResolver) => Object.entries(stack.deployedResources()).filter(([, r]) => r.Type === 'AWS::IAM::ServiceLinkedRole');

    it('creates none by default (creating it where it exists fails the deploy)', () => {
      expect(roles(stackWith())).toEqual([]);
    });

    it('creates the ECS role on request, kept on stack deletion, and creates the cluster after it', () => {
      const stack = stackWith({ CreateEcsServiceLinkedRole: 'true' });
      const [[id, role]] = roles(stack) as [[string, Json]];
      expect(stack.resolve(role.Properties).AWSServiceName).toBe('ecs.amazonaws.com');
      expect(role.DeletionPolicy).toBe('Retain');
      // A reference orders creation: the cluster waits for the role.
      const cluster = template.Resources.BuildCluster;
      expect(cluster.DependsOn ?? JSON.stringify(cluster.Properties)).toContain(id);
      expect(JSON.stringify(stack.resolve(cluster.Properties))).toContain(stack.refOf(id));
    });
  });

  it('logs the HTTP API with documented access-log variables only (defect 3)', () => {
    const stages = Object.values(template.Resources).filter((r: Json) => r.Type === 'AWS::ApiGatewayV2::Stage');
    expect(stages.length).toBe(1);
    const format: string = (stages[0] as Json).Properties.AccessLogSettings.Format;
    expect(format).toMatch(/\$context\.requestId/);
    expect(undocumentedVariables(format)).toEqual([]);
    expect(undocumentedVariables('$context.requestHeader.X-GitHub-Delivery')).toEqual(['requestHeader.X-GitHub-Delivery']);
  });

  describe('reserved concurrency (defect 10)', () => {
    const reserved = (stack: StackResolver) =>
      Object.fromEntries(
        Object.entries(stack.deployedResources())
          .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
          .map(([id, r]) => [id, stack.resolve(r.Properties).ReservedConcurrentExecutions])
          .filter(([, value]) => value !== undefined)
          .map(([id, value]) => [id, Number(value)]),
      );
    const total = (map: Record<string, number>) => Object.values(map).reduce((a, b) => a + b, 0);

    it('reserves nothing by default, so the stack deploys on an account whose concurrency limit is 10', () => {
      expect(total(reserved(stackWith()))).toBeLessThanOrEqual(reservable(10));
    });

    it('keeps capacity for every control-plane function when asked, and bounds each runner tier', () => {
      const stack = stackWith({ ControlPlaneReservedConcurrency: '5', LambdaRunnerReservedConcurrency: '50' });
      const map = reserved(stack);
      for (const id of CONTROL_PLANE) expect(map[id], id).toBe(5);
      const runners = Object.keys(map).filter((id) => id.startsWith('LambdaRunner'));
      expect(runners.sort()).toEqual(['LambdaRunner1024Function', 'LambdaRunner2048Function']);
      for (const id of runners) expect(map[id]).toBe(50);
    });

    it('fits the documented example (docs/deploy.md) into an account limit of 1000 with every tier deployed', () => {
      const stack = stackWith({ ControlPlaneReservedConcurrency: '5', LambdaRunnerReservedConcurrency: '100', LambdaRunnerMaxMemoryMB: '10240' });
      expect(total(reserved(stack))).toBe(7 * 5 + 6 * 100);
      expect(total(reserved(stack))).toBeLessThanOrEqual(reservable(1000));
    });
  });

  it('lets a private helper image replace the public one (defect 14)', () => {
    expect(stackWith().resolve(template.Resources.FargatePrepareFunction.Properties.Environment.Variables).HELPER_IMAGE).toBe('');
    const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/node:22-slim';
    expect(stackWith({ HelperImage: image }).resolve(template.Resources.FargatePrepareFunction.Properties.Environment.Variables).HELPER_IMAGE).toBe(image);
  });

  describe('artifact bucket (defect 15)', () => {
    const bucket = () => template.Resources.ArtifactBucket;

    it('is retained on stack deletion and replacement (CloudFormation cannot delete a bucket with objects)', () => {
      expect(bucket().DeletionPolicy).toBe('Retain');
      expect(bucket().UpdateReplacePolicy).toBe('Retain');
    });

    it('expires builds/ and stale history/, and keeps helpers/ on purpose', () => {
      const rules = stackWith({ HistoryRetentionDays: '90' }).resolve(bucket().Properties.LifecycleConfiguration.Rules) as Json[];
      const byPrefix = Object.fromEntries(rules.filter((r) => r.Prefix).map((r) => [r.Prefix, r]));
      expect(byPrefix['builds/']).toMatchObject({ Status: 'Enabled', ExpirationInDays: '30' });
      expect(byPrefix['history/']).toMatchObject({ Status: 'Enabled', ExpirationInDays: '90' });
      // A live helper bundle must not expire under a warm fargate-prepare that remembers uploading it.
      expect(byPrefix['helpers/']).toBeUndefined();
      expect(rules.find((r) => r.AbortIncompleteMultipartUpload)).toBeDefined();
    });
  });
});
