/**
 * The stack in a CloudFormation we did not write: the SAM-translated template, filtered to the
 * resource types moto implements (test/support/twin/README-template.md), is created in moto's
 * CloudFormation, which resolves every Ref, GetAtt, Sub, If and condition itself. The test then
 * reads what moto created through the real SDK clients and checks the wiring: every function's
 * environment names a resource the stack created, the state machine's definition has every
 * placeholder substituted with the right ARN, and the tiers follow LambdaRunnerMaxMemoryMB.
 * What moto cannot create (the HTTP API, SNS subscriptions, bucket/queue policies) is checked
 * on the translated JSON at the end of this file.
 */
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STACK, StackResolver } from '../../support/iam/resolve-intrinsics.js';
import { samTranslatorUnavailable, translatedTemplate } from '../../support/iam/sam-template.js';
import { motoUnavailableReason, startMotoServer, type MotoServer } from '../../support/twin/moto-server.js';
import { deployToMoto, motoClientConfig, type MotoStack } from '../../support/twin/moto-deploy.js';
import { motoStackTemplate } from '../../support/twin/moto-stack-template.js';

const unavailable = samTranslatorUnavailable() ?? motoUnavailableReason();
if (unavailable) console.warn(`SKIPPED the stack in moto's CloudFormation: ${unavailable}`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const ROOT = resolve(import.meta.dirname, '../../..');
/**
 * With a GitHub token: moto keeps `!If [c, policy, !Ref AWS::NoValue]` as null in a role's Policies
 * list and fails the role, where CloudFormation drops it; with the token the branch holds a policy.
 */
const PARAMETERS = {
  WebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm-control/webhook-secret-AbCdEf',
  GitHubTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm-control/github-token-AbCdEf',
};

describe.skipIf(unavailable !== undefined)("the stack in moto's CloudFormation", () => {
  const translated = unavailable ? { Resources: {} } : translatedTemplate();
  let moto: MotoServer;
  const stacks: Record<string, MotoStack> = {};
  const physical = (stack: string, logicalId: string) => stacks[stack]!.resources.find((r) => r.logicalId === logicalId)?.physicalId;

  beforeAll(async () => {
    moto = await startMotoServer({ flavour: 'plain' });
    const filtered = motoStackTemplate(translated);
    stacks.fresh = deployToMoto(moto.endpoint, 'fresh', filtered, PARAMETERS);
    stacks.big = deployToMoto(moto.endpoint, 'big', filtered, { ...PARAMETERS, LambdaRunnerMaxMemoryMB: '10240' });
  }, 240_000);
  afterAll(async () => {
    await moto?.stop();
  });

  const lambda = () => new LambdaClient(motoClientConfig(moto.endpoint));
  const env = async (stack: string, fn: string) =>
    (await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: physical(stack, fn) }))).Environment?.Variables ?? {};
  const functionArn = (stack: string, fn: string) => `arn:aws:lambda:us-east-1:123456789012:function:${physical(stack, fn)}`;
  const roleArn = (stack: string, role: string) => `arn:aws:iam::123456789012:role/${physical(stack, role)}`;

  it.each(['fresh', 'big'])('%s: creates every resource of the filtered template', (name) => {
    const stack = stacks[name]!;
    expect(stack.events).toEqual([]);
    expect(stack.status).toBe('CREATE_COMPLETE');
    expect(stack.resources.filter((r) => r.status !== 'CREATE_COMPLETE')).toEqual([]);
  });

  it('creates only the runner tiers LambdaRunnerMaxMemoryMB allows', () => {
    const runners = (name: string) => stacks[name]!.resources.filter((r) => /^LambdaRunner\d+Function$/.test(r.logicalId)).map((r) => r.logicalId).sort();
    expect(runners('fresh')).toEqual(['LambdaRunner1024Function', 'LambdaRunner2048Function']);
    expect(runners('big')).toHaveLength(6);
  });

  describe.each(['fresh', 'big'])('%s: function environments name what the stack created', (name) => {
    it('webhook: the secret parameter and the BuildRequests topic', async () => {
      const vars = await env(name, 'WebhookFunction');
      expect(vars.WEBHOOK_SECRET_ARN).toBe(PARAMETERS.WebhookSecretArn);
      expect(vars.BUILD_REQUESTS_TOPIC_ARN).toBe(physical(name, 'BuildRequestsTopic'));
    });

    it('start-build: the state machine, by the fixed name it is created with', async () => {
      expect((await env(name, 'StartBuildFunction')).STATE_MACHINE_ARN).toBe(physical(name, 'BuildStateMachine'));
    });

    it('plan, schedule, report, fargate-prepare: the bucket; report: the BuildReports topic', async () => {
      for (const fn of ['PlanFunction', 'ScheduleFunction', 'ReportFunction', 'FargatePrepareFunction']) {
        expect((await env(name, fn)).ARTIFACT_BUCKET, fn).toBe(physical(name, 'ArtifactBucket'));
      }
      expect((await env(name, 'ReportFunction')).BUILD_REPORTS_TOPIC_ARN).toBe(physical(name, 'BuildReportsTopic'));
    });

    it('schedule routes to the created runners, and plan knows exactly their tiers', async () => {
      const routes = JSON.parse((await env(name, 'ScheduleFunction')).RUNNER_FUNCTIONS!);
      const created = stacks[name]!.resources.filter((r) => /^LambdaRunner\d+Function$/.test(r.logicalId));
      expect(routes).toEqual(Object.fromEntries(created.map((r) => [r.logicalId.match(/\d+/)![0], functionArn(name, r.logicalId)])));
      expect((await env(name, 'PlanFunction')).LAMBDA_RUNNER_TIERS_MB).toBe(Object.keys(routes).map(Number).sort((a, b) => a - b).join(','));
    });

    it('fargate-prepare: the task roles and the task log group', async () => {
      const vars = await env(name, 'FargatePrepareFunction');
      expect(vars.TASK_EXECUTION_ROLE_ARN).toBe(roleArn(name, 'TaskExecutionRole'));
      expect(vars.TASK_ROLE_ARN).toBe(roleArn(name, 'TaskRole'));
      expect(vars.TASK_LOG_GROUP).toBe(physical(name, 'TaskLogGroup'));
    });
  });

  it.each(['fresh', 'big'])('%s: the state machine definition has every placeholder replaced by the created resource', async (name) => {
    const sfn = new SFNClient(motoClientConfig(moto.endpoint));
    const machine = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: physical(name, 'BuildStateMachine') }));
    const definition = machine.definition!;
    expect(definition).not.toMatch(/\$\{[A-Za-z0-9_]+\}/);
    const functions = [...definition.matchAll(/"FunctionName":\s*"([^"]+)"/g)].map((m) => m[1]);
    const expected = ['PlanFunction', 'ScheduleFunction', 'ReportFunction', 'FargatePrepareFunction'].map((fn) => functionArn(name, fn));
    expect(new Set(functions)).toEqual(new Set(expected));
    const largest = name === 'big' ? 'LambdaRunner10240Function' : 'LambdaRunner2048Function';
    expect(definition).toContain(`"${functionArn(name, largest)}"`);
    expect(definition).toContain(`"arn:aws:ecs:us-east-1:123456789012:cluster/${physical(name, 'BuildCluster')}"`);
    expect(machine.roleArn).toBe(roleArn(name, 'BuildStateMachineRole'));
  });
});

describe.skipIf(samTranslatorUnavailable() !== undefined)('what moto cannot create, on the SAM-translated template', () => {
  const translated = samTranslatorUnavailable() ? { Resources: {} } : translatedTemplate();
  const stack = new StackResolver(translated, { ...DEFAULT_STACK, parameters: { ...DEFAULT_STACK.parameters, NotificationEmail: 'team@example.com' } });
  const resources = () => stack.deployedResources();
  const ofType = (type: string) => Object.entries(resources()).filter(([, r]) => r.Type === type).map(([id, r]) => [id, stack.resolve(r.Properties)] as [string, Json]);

  it('substitutes exactly the placeholders of the state machine definition', () => {
    const asl = readFileSync(join(ROOT, 'statemachines/build.asl.json'), 'utf8');
    const placeholders = new Set([...asl.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    expect(new Set(Object.keys(translated.Resources.BuildStateMachine.Properties.DefinitionSubstitutions))).toEqual(placeholders);
  });

  it('subscribes start-build to BuildRequests, with the dead-letter queue, and lets SNS invoke it and use the queue', () => {
    const subscriptions = ofType('AWS::SNS::Subscription');
    const requests = subscriptions.find(([, s]) => s.TopicArn === stack.refOf('BuildRequestsTopic'))![1];
    expect(requests).toMatchObject({ Protocol: 'lambda', Endpoint: stack.getAtt('StartBuildFunction', 'Arn') });
    expect(requests.RedrivePolicy.deadLetterTargetArn).toBe(stack.getAtt('StartBuildDeadLetterQueue', 'Arn'));
    const permission = ofType('AWS::Lambda::Permission').find(([, p]) => p.Principal === 'sns.amazonaws.com')![1];
    expect(permission).toMatchObject({ FunctionName: stack.refOf('StartBuildFunction'), SourceArn: stack.refOf('BuildRequestsTopic'), Action: 'lambda:InvokeFunction' });
    const queuePolicy = ofType('AWS::SQS::QueuePolicy')[0]![1];
    expect(queuePolicy.Queues).toEqual([stack.refOf('StartBuildDeadLetterQueue')]);
    expect(queuePolicy.PolicyDocument.Statement[0]).toMatchObject({
      Principal: { Service: 'sns.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: stack.getAtt('StartBuildDeadLetterQueue', 'Arn'),
      Condition: { ArnEquals: { 'aws:SourceArn': stack.refOf('BuildRequestsTopic') } },
    });
  });

  it('mails the cost reports when an address is given', () => {
    const mail = ofType('AWS::SNS::Subscription').find(([, s]) => s.Protocol === 'email')![1];
    expect(mail).toEqual({ TopicArn: stack.refOf('BuildReportsTopic'), Protocol: 'email', Endpoint: 'team@example.com' });
  });

  it('routes POST /webhook to the webhook function, which API Gateway may invoke', () => {
    const route = translated.Resources.WebhookApi.Properties.Body.paths['/webhook'].post['x-amazon-apigateway-integration'];
    expect(stack.resolve(route.uri)).toContain(stack.getAtt('WebhookFunction', 'Arn'));
    expect(route.payloadFormatVersion).toBe('2.0');
    const permission = ofType('AWS::Lambda::Permission').find(([, p]) => p.Principal === 'apigateway.amazonaws.com')![1];
    expect(permission.FunctionName).toBe(stack.refOf('WebhookFunction'));
    expect(permission.SourceArn).toMatch(/:execute-api:us-east-1:123456789012:[a-z0-9]+\/\*\/POST\/webhook$/);
  });
});
