/**
 * The control plane's roles against the requests their code makes, evaluated by
 * @cloud-copilot/iam-simulate on the SAM-translated template (see test/support/iam/).
 * Each catalogue entry names the code that makes the request. The runner functions and the
 * TaskRole run user code: their catalogues live with the stage-credential work.
 *
 * S3 and missing keys: GetObject/HeadObject of an absent key answers 404 only to a caller
 * allowed s3:ListBucket on the bucket, else 403 AccessDenied
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions").
 * A GetObject carries no s3:prefix, so a ListBucket grant conditioned on s3:prefix does not
 * count: the "absent key" entries below are ListBucket requests without s3:prefix.
 */
import { describe } from 'vitest';
import { DEFAULT_STACK, StackResolver, type StackContext } from '../../support/iam/resolve-intrinsics.js';
import { describeRoleCatalogue } from '../../support/iam/role-catalogue.js';
import { roleOfFunction, rolePolicies } from '../../support/iam/role-policies.js';
import { samTranslatorUnavailable, translatedTemplate } from '../../support/iam/sam-template.js';
import type { AwsRequest } from '../../support/iam/evaluate.js';

const unavailable = samTranslatorUnavailable();
/** A budget reservation (domain/budget/reservations.ts). */
const RESERVATION = 'spend/reserved/octo/repo/49644-1764504000000-1764516360000-b1';
if (unavailable) console.warn(`SKIPPED control-plane IAM catalogue: ${unavailable}`);

/** With a GitHub token, so the token's grants exist and are judged too. */
const STACK: StackContext = {
  ...DEFAULT_STACK,
  parameters: { ...DEFAULT_STACK.parameters, GitHubTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm-github-token-XyZ123' },
};

describe.skipIf(unavailable !== undefined)('control-plane roles (IAM, evaluated)', () => {
  const template = unavailable ? { Resources: {} } : translatedTemplate();
  const stack = new StackResolver(template, STACK);
  const arn = (id: string) => stack.getAtt(id, 'Arn');
  const env = (fn: string) => stack.resolve(template.Resources[fn].Properties.Environment.Variables) as Record<string, string>;
  const bucket = () => arn('ArtifactBucket');
  const object = (key: string) => `${bucket()}/${key}`;
  const stateMachine = () => `arn:aws:states:us-east-1:123456789012:stateMachine:${STACK.stackName}-build`;
  const execution = () => `arn:aws:states:us-east-1:123456789012:execution:${STACK.stackName}-build:delivery-1`;
  const token = STACK.parameters.GitHubTokenSecretArn!;

  const get = (key: string, why: string): AwsRequest => ({ action: 's3:GetObject', resource: object(key), why });
  const put = (key: string, why: string): AwsRequest => ({ action: 's3:PutObject', resource: object(key), why });
  /** The uploader (adapters/aws/multipart-upload.ts) aborts a multipart upload it started (bodies over one 8 MiB part) when a part fails. */
  const abort = (key: string, why: string): AwsRequest => ({ action: 's3:AbortMultipartUpload', resource: object(key), why });
  const absentKey = (why: string): AwsRequest => ({ action: 's3:ListBucket', resource: bucket(), context: {}, why: `a read of an absent key answers 404: ${why}` });
  /** The Lambda runtime writes the function's log group with the function's role. */
  const runtimeLogs = (fn: string): AwsRequest[] => {
    const stream = `${arn(template.Resources[fn].Properties.LoggingConfig.LogGroup.Ref).replace(/:\*$/, '')}:log-stream:2026/11/30/[$LATEST]0123456789abcdef`;
    return ['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({ action, resource: stream, why: 'Lambda runtime logs' }));
  };
  const policiesOf = (fn: string) => rolePolicies(template, roleOfFunction(template, fn), stack);

  describeRoleCatalogue('WebhookFunction', () => ({
    policies: policiesOf('WebhookFunction'),
    requests: [
      { action: 'secretsmanager:GetSecretValue', resource: env('WebhookFunction').WEBHOOK_SECRET_ARN!, why: 'handlers/webhook.ts readSecret' },
      { action: 'sns:Publish', resource: env('WebhookFunction').BUILD_REQUESTS_TOPIC_ARN!, why: 'adapters/aws/sns-notifier.ts' },
      ...runtimeLogs('WebhookFunction'),
    ],
  }));

  describeRoleCatalogue('StartBuildFunction', () => ({
    policies: policiesOf('StartBuildFunction'),
    requests: [
      { action: 'states:StartExecution', resource: env('StartBuildFunction').STATE_MACHINE_ARN!, why: 'adapters/aws/sfn-workflow-starter.ts' },
      { action: 'states:ListExecutions', resource: stateMachine(), why: 'sfn-running-builds.ts: running builds of the branch' },
      { action: 'states:DescribeExecution', resource: execution(), why: 'sfn-running-builds.ts: a running build\'s input' },
      { action: 'states:StopExecution', resource: execution(), why: 'start-build-core.ts: superseded build' },
      { action: 'sqs:SendMessage', resource: arn('StartBuildDeadLetterQueue'), why: 'Lambda puts a failed asynchronous invocation on the function\'s dead-letter queue' },
      ...runtimeLogs('StartBuildFunction'),
    ],
  }));

  describeRoleCatalogue('PlanFunction', () => ({
    policies: policiesOf('PlanFunction'),
    requests: [
      put('builds/b1/source.tar.gz', 'handlers/plan.ts: source snapshot'),
      abort('builds/b1/source.tar.gz', 'a snapshot over 8 MiB goes multipart'),
      get('builds/b1/source.tar.gz', 'handlers/plan.ts: pipeline file from the snapshot'),
      put('builds/b1/plan.json', 'handlers/plan.ts: the plan'),
      put('builds/b1/plan/stages/test.json', 'handlers/plan.ts: each stage\'s slice of the plan'),
      put('builds/b1/plan/batches/0.json', 'handlers/plan.ts: each batch\'s slice of the plan'),
      get('history/octo/repo/test/0123456789abcdef.json', 's3-history-store.ts loadHistory (stage-history-loader.ts: {stage}/{definition hash})'),
      absentKey('history on a repository\'s first build'),
      { action: 's3:ListBucket', resource: bucket(), context: { 's3:prefix': 'spend/2026-11/' }, why: 's3-spend-ledger.ts entriesOf: the month\'s spend, for the budgets' },
      put(RESERVATION, 's3-spend-ledger.ts reserve (budget-admission.ts)'),
      { action: 's3:ListBucket', resource: bucket(), context: { 's3:prefix': 'spend/reserved/' }, why: 's3-spend-ledger.ts reservations: builds still running' },
      { action: 's3:DeleteObject', resource: object(RESERVATION), why: 'budget-admission.ts: a refused build releases its reservation' },
      { action: 'states:ListExecutions', resource: stateMachine(), why: 'cancel-superseded' },
      { action: 'states:DescribeExecution', resource: execution(), why: 'cancel-superseded' },
      { action: 'states:StopExecution', resource: execution(), why: 'cancel-superseded' },
      { action: 'secretsmanager:GetSecretValue', resource: token, why: 'private repository tarball' },
      ...runtimeLogs('PlanFunction'),
    ],
  }));

  describeRoleCatalogue('ScheduleFunction', () => ({
    policies: policiesOf('ScheduleFunction'),
    requests: [
      get('builds/b1/plan/batches/0.json', 'handlers/schedule.ts: Select stages reads its batch'),
      get('builds/b1/plan/stages/test.json', 'stage-release.ts: a stage\'s needs and dependents (runner/planned-stage.ts readStageSlice)'),
      get('builds/b1/plan.json', 'runner/planned-stage.ts: a build planned before slices existed'),
      put('waits/b1/test.json', 'stage-release.ts: Wait for needs stores the task token'),
      get('waits/b1/test.json', 'stage-release.ts: a release reads the dependent\'s token'),
      put('waits/b1/failed.json', 'stage-release.ts, schedule.ts: the build\'s failure record (fail-fast)'),
      get('waits/b1/failed.json', 'stage-release.ts, schedule.ts: fail-fast'),
      { action: 'states:SendTaskSuccess', resource: '*', why: 'adapters/aws/sfn-task-tokens.ts: release a waiting stage' },
      { action: 'states:SendTaskFailure', resource: '*', why: 'adapters/aws/sfn-task-tokens.ts: skip a waiting stage (NeedsNotMet)' },
      get('builds/b1/stages/test/result.json', 'handlers/schedule.ts: upstream results, the published Fargate result'),
      absentKey('a stage that has not recorded a result'),
      put('builds/b1/stages/test/result.json', 'handlers/schedule.ts: skipped stage, stage error'),
      put('builds/b1/stages/test/run.json', 'handlers/schedule.ts: Fargate run record'),
      put(`grants/${'a'.repeat(64)}.json`, 'handlers/schedule.ts: Select stages writes each stage grant (grants/{sha256(token)}.json)'),
      ...runtimeLogs('ScheduleFunction'),
    ],
  }));

  describeRoleCatalogue('ReportFunction', () => ({
    policies: policiesOf('ReportFunction'),
    requests: [
      get('builds/b1/plan.json', 'handlers/report.ts'),
      get('builds/b1/stages/test/result.json', 'handlers/report.ts readRecords'),
      get('builds/b1/stages/test/run.json', 'handlers/report.ts readRecords'),
      get('builds/b1/stages/test/manifest.json', 'handlers/report.ts readRecords'),
      absentKey('run.json and manifest.json of a stage that never ran'),
      put('builds/b1/report.json', 'publish-report.ts'),
      abort('builds/b1/report.json', 'a report over 8 MiB goes multipart'),
      put('builds/b1/report.txt', 'publish-report.ts'),
      get('history/octo/repo/test/0123456789abcdef.json', 's3-history-store.ts record'),
      put('history/octo/repo/test/0123456789abcdef.json', 's3-history-store.ts record'),
      get('history/octo/repo/@branches/main.json', 'pr-cost: the base branch\'s last successful build'),
      put('history/octo/repo/@branches/main.json', 'pr-cost: a successful push build of main'),
      put('spend/2026-11/30/octo/repo/1234-b1', 's3-spend-ledger.ts record (record-spend.ts)'),
      { action: 's3:DeleteObject', resource: object(RESERVATION), why: 'record-spend.ts settleSpend: the actual replaces the reservation' },
      { action: 'sns:Publish', resource: env('ReportFunction').BUILD_REPORTS_TOPIC_ARN!, why: 'sns-notifier.ts: the cost report' },
      { action: 'secretsmanager:GetSecretValue', resource: token, why: 'commit-status-environment.ts: the token' },
      ...runtimeLogs('ReportFunction'),
    ],
  }));

  describeRoleCatalogue('FargatePrepareFunction', () => ({
    policies: policiesOf('FargatePrepareFunction'),
    requests: [
      get('builds/b1/plan/stages/test.json', 'runner/planned-stage.ts: the stage\'s slice of the plan'),
      get('builds/b1/plan.json', 'runner/planned-stage.ts: a build planned before slices existed'),
      get('helpers/fargate-helper-0123456789abcdef0123.cjs', 'helper-bundle-store.ts HeadObject'),
      absentKey('helper-bundle-store.ts: the first HeadObject after a deploy'),
      put('helpers/fargate-helper-0123456789abcdef0123.cjs', 'helper-bundle-store.ts PutObject'),
      // DescribeTaskDefinition, ListTaskDefinitions and DeregisterTaskDefinition take no resource ARN in IAM.
      { action: 'ecs:DescribeTaskDefinition', resource: '*', why: 'ecs-task-definitions.ts describeActive' },
      { action: 'ecs:RegisterTaskDefinition', resource: 'arn:aws:ecs:us-east-1:123456789012:task-definition/buildfarm-node-22-0123abcd:1', why: 'ecs-task-definitions.ts ensure' },
      { action: 'ecs:ListTaskDefinitions', resource: '*', why: 'ecs-task-definitions.ts converge' },
      { action: 'ecs:DeregisterTaskDefinition', resource: '*', why: 'ecs-task-definitions.ts converge: the race loser' },
      ...['TaskExecutionRole', 'TaskRole'].map((role) => ({
        action: 'iam:PassRole',
        resource: arn(role),
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
        why: `RegisterTaskDefinition names ${role}`,
      })),
      ...runtimeLogs('FargatePrepareFunction'),
    ],
  }));

  describeRoleCatalogue('BuildStateMachineRole', () => {
    const machine = template.Resources.BuildStateMachine.Properties;
    const substitutions = stack.resolve(machine.DefinitionSubstitutions) as Record<string, string>;
    const runners = Object.values(JSON.parse(env('ScheduleFunction').RUNNER_FUNCTIONS!) as Record<string, string>);
    const functions = [
      ...['PlanFunctionArn', 'ScheduleFunctionArn', 'ReportFunctionArn', 'FargatePrepareFunctionArn', 'LambdaRunnerFunctionArn'].map((k) => substitutions[k]!),
      ...runners,
    ];
    const task = `arn:aws:ecs:us-east-1:123456789012:task/${stack.refOf('BuildCluster')}/0123456789abcdef0123456789abcdef`;
    const rule = 'arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule';
    return {
      policies: rolePolicies(template, 'BuildStateMachineRole', stack),
      requests: [
        ...[...new Set(functions)].map((fn) => ({ action: 'lambda:InvokeFunction', resource: fn, why: 'lambda:invoke task' })),
        {
          action: 'ecs:RunTask',
          resource: 'arn:aws:ecs:us-east-1:123456789012:task-definition/buildfarm-node-22-0123abcd:1',
          context: { 'ecs:cluster': substitutions.ClusterArn! },
          why: 'ecs:runTask.sync',
        },
        ...['ecs:StopTask', 'ecs:DescribeTasks'].map((action) => ({ action, resource: task, why: 'ecs:runTask.sync watches and stops the task' })),
        ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({ action, resource: rule, why: 'ecs:runTask.sync managed rule' })),
        ...['TaskExecutionRole', 'TaskRole'].map((role) => ({
          action: 'iam:PassRole',
          resource: arn(role),
          context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
          why: 'RunTask starts a task with these roles',
        })),
        // Execution logging (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).
        ...['CreateLogDelivery', 'GetLogDelivery', 'UpdateLogDelivery', 'DeleteLogDelivery', 'ListLogDeliveries', 'PutResourcePolicy', 'DescribeResourcePolicies', 'DescribeLogGroups'].map(
          (a) => ({ action: `logs:${a}`, resource: '*', why: 'execution logging' }),
        ),
      ],
    };
  });

  describeRoleCatalogue('TaskExecutionRole', () => {
    const stream = `${arn('TaskLogGroup').replace(/:\*$/, '')}:log-stream:buildfarm/build/0123456789abcdef0123456789abcdef`;
    const repository = 'arn:aws:ecr:us-east-1:123456789012:repository/team/builder';
    return {
      policies: rolePolicies(template, 'TaskExecutionRole', stack),
      requests: [
        // Pulling a stage image from this account's private ECR
        // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
        { action: 'ecr:GetAuthorizationToken', resource: '*', why: 'private ECR image' },
        ...['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'].map((action) => ({ action, resource: repository, why: 'private ECR image' })),
        ...['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({ action, resource: stream, why: 'awslogs driver' })),
      ],
    };
  });
});
