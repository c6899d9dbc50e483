/**
 * The twin's AWS side: SDK clients for the one endpoint (the router), and the stack's resources
 * created in moto the way template.yaml creates them: the artifact bucket, the BuildReports topic
 * (with an SQS queue subscribed, to read what was published as a subscriber would), the ECS
 * cluster with FARGATE and FARGATE_SPOT, and the state machine from statemachines/build.asl.json
 * with the template's DefinitionSubstitutions applied (asl-definition.ts refuses unknown or
 * missing placeholders, so the twin runs exactly the file that ships).
 */
import { CreateClusterCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { readBuildDefinition, substitutePlaceholders, type Substitutions } from '../../../functions/local/asl-definition.js';
import { runnerFunctionName, twinFunctionArn, TWIN_ACCOUNT } from './twin-functions.js';
import { SubscribedQueue } from './sqs-queue.js';
import { LAMBDA_MAX_MEMORY_MB } from '../../../functions/domain/sizing/lambda-sizes.js';

export interface TwinClients {
  s3: S3Client;
  sns: SNSClient;
  sfn: SFNClient;
  ecs: ECSClient;
  secretsManager: SecretsManagerClient;
  ssm: SSMClient;
  destroy(): void;
}

export function twinClients(endpoint: string, region: string): TwinClients {
  // moto accepts any signature; these only satisfy the SDK's signer. No retries: a failure shows at once.
  const common = { endpoint, region, credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' }, maxAttempts: 1 };
  const clients = {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sns: new SNSClient(common),
    sfn: new SFNClient(common),
    ecs: new ECSClient(common),
    secretsManager: new SecretsManagerClient(common),
    ssm: new SSMClient(common),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((client) => client.destroy()) };
}

export interface TwinStack {
  bucket: string;
  reportsTopicArn: string;
  /** Subscribed to BuildReports. */
  reports: SubscribedQueue;
  clusterArn: string;
  stateMachineArn: string;
  /** The role every state machine is created with (moto does not evaluate it). */
  roleArn: string;
  /** build.asl.json with the substitutions applied: what CreateStateMachine received. */
  definition: string;
  substitutions: Substitutions;
}

export interface TwinStackOptions {
  maxStageConcurrency?: number;
  /** The definition text (default: statemachines/build.asl.json as it ships). */
  definitionText?: string;
  /** The endpoint the SQS queue is created at (the router's). */
  endpoint: string;
}

export async function createTwinStack(clients: TwinClients, region: string, options: TwinStackOptions): Promise<TwinStack> {
  const bucket = 'buildfarm-twin-artifacts';
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));

  const { TopicArn: reportsTopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: 'buildfarm-twin-BuildReports' }));
  const reports = await SubscribedQueue.create(options.endpoint, 'buildfarm-twin-reports');
  await clients.sns.send(new SubscribeCommand({ TopicArn: reportsTopicArn, Protocol: 'sqs', Endpoint: reports.arn }));

  const { cluster } = await clients.ecs.send(
    new CreateClusterCommand({
      clusterName: 'buildfarm-twin',
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    }),
  );

  const substitutions: Substitutions = {
    PlanFunctionArn: twinFunctionArn(region, 'plan'),
    ScheduleFunctionArn: twinFunctionArn(region, 'schedule'),
    ReportFunctionArn: twinFunctionArn(region, 'report'),
    // As the template: the default runner is the largest tier.
    LambdaRunnerFunctionArn: twinFunctionArn(region, runnerFunctionName(LAMBDA_MAX_MEMORY_MB)),
    FargatePrepareFunctionArn: twinFunctionArn(region, 'fargate-prepare'),
    ClusterArn: cluster!.clusterArn!,
    SubnetIds: 'subnet-0a1b2c3d,subnet-0e4f5a6b',
    SecurityGroupIds: 'sg-0c7d8e9f',
    AssignPublicIp: 'ENABLED',
    MaxStageConcurrency: String(options.maxStageConcurrency ?? 2),
  };
  const roleArn = `arn:aws:iam::${TWIN_ACCOUNT}:role/buildfarm-twin-state-machine`;
  const definitionText = options.definitionText ?? (await readBuildDefinition());
  const { stateMachineArn, definition } = await createBuildStateMachine(clients, 'buildfarm-twin-build', definitionText, substitutions, roleArn);
  return { bucket, reportsTopicArn: reportsTopicArn!, reports, clusterArn: cluster!.clusterArn!, stateMachineArn, roleArn, definition, substitutions };
}

/**
 * Creates a state machine from the build definition with `substitutions` applied, as a stack
 * deployed with other template parameters would (another MaxStageConcurrency, say).
 */
export async function createBuildStateMachine(
  clients: TwinClients,
  name: string,
  definitionText: string,
  substitutions: Substitutions,
  roleArn: string,
): Promise<{ stateMachineArn: string; definition: string }> {
  const definition = substitutePlaceholders(definitionText, substitutions);
  const { stateMachineArn } = await clients.sfn.send(new CreateStateMachineCommand({ name, definition, roleArn, type: 'STANDARD' }));
  return { stateMachineArn: stateMachineArn!, definition };
}
