/**
 * template.yaml, checked without AWS: it parses with the CloudFormation tags, every
 * function's handler is a real exported function, the state machine's placeholders
 * and substitutions match, every AWS call in a function's code is allowed by its
 * policies, and the bucket is private, encrypted and TLS-only.
 */
import { MAX_RESERVATION_SECONDS } from '../../functions/domain/budget/build-duration-bound.js';
import { RESERVATIONS_PREFIX } from '../../functions/domain/budget/reservations.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { yamlParse } from 'yaml-cfn';
import { LAMBDA_RUNNER_TIERS_MB } from '../../functions/domain/sizing/lambda-sizes.js';
// @ts-expect-error: plain JavaScript module without type declarations
import { functionsOf, outputModuleOf } from '../../scripts/bundle.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const templateText = readFileSync(join(ROOT, 'template.yaml'), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const template: Json = yamlParse(templateText);
const resources: Record<string, Json> = template.Resources;

interface TemplateFunction {
  logicalId: string;
  handler: string;
  entryPoints: string[];
  buildMethod?: string;
  buildProperties: Record<string, Json>;
}
const functions: TemplateFunction[] = functionsOf(templateText);

function resourcesOfType(type: string): [string, Json][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** The entry point a function's Handler names: `dir/file.export` against the esbuild output layout. */
function handlerSource(fn: TemplateFunction): { entry: string; exportName: string } {
  const dot = fn.handler.lastIndexOf('.');
  const module = fn.handler.slice(0, dot);
  const exportName = fn.handler.slice(dot + 1);
  const entry = fn.entryPoints.find((e) => outputModuleOf(fn.entryPoints, e) === module);
  if (!entry) throw new Error(`${fn.logicalId}: Handler ${fn.handler} matches none of ${fn.entryPoints.join(', ')}`);
  return { entry, exportName };
}

// ---- IAM: what a function's code calls, and what its policies allow --------------------

/** @aws-sdk client package → IAM service prefix. */
const SERVICE_OF_CLIENT: Record<string, string> = {
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-sqs': 'sqs',
};

/** S3 commands whose IAM action has another name (https://docs.aws.amazon.com/AmazonS3/latest/API/). */
const S3_ACTION_OF_COMMAND: Record<string, string> = {
  HeadObject: 'GetObject',
  ListObjectsV2: 'ListBucket',
  HeadBucket: 'ListBucket',
  CreateMultipartUpload: 'PutObject',
  UploadPart: 'PutObject',
  CompleteMultipartUpload: 'PutObject',
};

/** Library calls that reach AWS without a `new XxxCommand(` in our code. */
const LIBRARY_CALLS: { pattern: RegExp; actions: string[] }[] = [
  { pattern: /paginateListObjectsV2\(/, actions: ['s3:ListBucket'] },
  { pattern: /from '@aws-lambda-powertools\/parameters\/secrets'/, actions: ['secretsmanager:GetSecretValue'] },
  { pattern: /from '@aws-lambda-powertools\/parameters\/ssm'/, actions: ['ssm:GetParameter'] },
];

/** SAM policy templates we use, by the actions they grant (github.com/aws/serverless-application-model, policy_templates.json). */
const SAM_POLICY_TEMPLATE_ACTIONS: Record<string, string[]> = {
  SNSPublishMessagePolicy: ['sns:Publish'],
  AWSSecretsManagerGetSecretValuePolicy: ['secretsmanager:GetSecretValue'],
  LambdaInvokePolicy: ['lambda:InvokeFunction'],
  StepFunctionsExecutionPolicy: ['states:StartExecution'],
  SQSSendMessagePolicy: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
};

/**
 * Calls a file makes only for some bodies: the uploader aborts only a multipart upload it started
 * (bodies over one 8 MiB part) when a part fails. Whether a role writes such bodies, and so needs
 * s3:AbortMultipartUpload, is judged request by request in test/aws/iam/control-plane-roles.test.ts.
 */
const CONDITIONAL_CALLS: Record<string, string[]> = {
  'functions/adapters/aws/multipart-upload.ts': ['s3:AbortMultipartUpload'],
};

/** Every file a module reaches through relative imports (type-only imports excluded). */
function sourceClosure(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [resolve(ROOT, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts'));
      if (existsSync(target)) queue.push(target);
    }
  }
  return [...seen];
}

function callsIn(entry: string): Set<string> {
  const calls = new Set<string>();
  for (const file of sourceClosure(entry)) {
    const text = readFileSync(file, 'utf8');
    const clientOfCommand = new Map<string, string>();
    for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      for (const name of match[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, ''))) {
        if (name.endsWith('Command')) clientOfCommand.set(name, match[2]!);
      }
    }
    for (const match of text.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\(/g)) {
      const client = clientOfCommand.get(`${match[1]}Command`);
      if (!client) throw new Error(`${file}: ${match[1]}Command is not imported from an @aws-sdk client`);
      const service = SERVICE_OF_CLIENT[client];
      if (!service) throw new Error(`${file}: map ${client} to its IAM service prefix in this test`);
      const action =
        service === 's3' ? (S3_ACTION_OF_COMMAND[match[1]!] ?? match[1]) : service === 'lambda' && match[1] === 'Invoke' ? 'InvokeFunction' : match[1];
      if (!CONDITIONAL_CALLS[relative(ROOT, file)]?.includes(`${service}:${action}`)) calls.add(`${service}:${action}`);
    }
    for (const { pattern, actions } of LIBRARY_CALLS) if (pattern.test(text)) actions.forEach((a) => calls.add(a));
  }
  return calls;
}

/** `!If [c, a, b]` in a Policies list may give either branch: both count. */
function policyItems(policies: Json): Json[] {
  const list = Array.isArray(policies) ? policies : policies ? [policies] : [];
  return list.flatMap((item) =>
    item && typeof item === 'object' && 'Fn::If' in item ? item['Fn::If'].slice(1).filter((b: Json) => b?.Ref !== 'AWS::NoValue') : [item],
  );
}

function allowedActions(properties: Json): string[] {
  const actions: string[] = [];
  for (const item of policyItems(properties.Policies)) {
    if (typeof item === 'string') throw new Error(`managed policy ${item}: list its actions in this test first`);
    if (item.Statement) {
      for (const statement of item.Statement) {
        if (statement.Effect !== 'Allow') continue;
        actions.push(...(Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
      }
      continue;
    }
    for (const name of Object.keys(item)) {
      const granted = SAM_POLICY_TEMPLATE_ACTIONS[name];
      if (!granted) throw new Error(`policy template ${name}: list its actions in this test first`);
      actions.push(...granted);
    }
  }
  return actions;
}

/** A function with its own `Role`: that role's policies, plus any AWS::IAM::Policy attached to it. */
function explicitRoleActions(properties: Json): string[] | undefined {
  const roleId = properties.Role?.['Fn::GetAtt']?.[0];
  if (!roleId) return undefined;
  const attached = Object.values(resources)
    .filter((r: Json) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: Json) => ref.Ref === roleId))
    .flatMap((r: Json) => r.Properties.PolicyDocument.Statement.filter((st: Json) => st.Effect === 'Allow').flatMap((st: Json) => [st.Action].flat()));
  return [...roleActions(resources[roleId]), ...attached];
}

/**
 * Code whose S3 calls go through a stage session (StageAccessRole narrowed by a session
 * policy), not through its own role: the Lambda runner and the Fargate helpers.
 */
const STAGE_SESSION_CODE = new Set(['functions/handlers/lambda-runner.ts', 'functions/runner/fargate-helper.ts']);

function allows(allowed: string[], action: string): boolean {
  return allowed.some((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(action));
}

function roleActions(role: Json): string[] {
  return role.Properties.Policies.flatMap((p: Json) =>
    p.PolicyDocument.Statement.filter((s: Json) => s.Effect === 'Allow').flatMap((s: Json) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    ),
  );
}

// ---- The state machine ------------------------------------------------------------------

/** Refs, GetAtts, Subs and Ifs that name nothing the template defines. */
function referenceProblems(all: Record<string, Json>): string[] {
  const names = new Set([...Object.keys(all), ...Object.keys(template.Parameters), 'AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::StackName', 'AWS::URLSuffix', 'AWS::NoValue']);
  const conditions = new Set(Object.keys(template.Conditions));
  const problems: string[] = [];
  const walk = (node: Json, where: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
    if (!node || typeof node !== 'object') return;
    if (typeof node.Ref === 'string' && !names.has(node.Ref)) problems.push(`${where}: Ref ${node.Ref}`);
    if (Array.isArray(node['Fn::GetAtt']) && !all[node['Fn::GetAtt'][0]]) problems.push(`${where}: GetAtt ${node['Fn::GetAtt'][0]}`);
    if (typeof node['Fn::Sub'] === 'string') {
      for (const [, ref] of node['Fn::Sub'].matchAll(/\$\{([^}!]+)\}/g)) {
        if (!names.has(ref.split('.')[0])) problems.push(`${where}: Sub \${${ref}}`);
      }
    }
    if (Array.isArray(node['Fn::If']) && !conditions.has(node['Fn::If'][0])) problems.push(`${where}: If ${node['Fn::If'][0]}`);
    for (const [key, value] of Object.entries(node)) walk(value, `${where}.${key}`);
  };
  walk(all, 'Resources');
  walk(template.Outputs, 'Outputs');
  for (const [id, r] of Object.entries(all)) {
    if (r.Condition && !conditions.has(r.Condition)) problems.push(`${id}: Condition ${r.Condition}`);
  }
  return problems;
}

const stateMachines = resourcesOfType('AWS::Serverless::StateMachine');

describe('template.yaml', () => {
  it('parses with the CloudFormation tags and uses the SAM transform', () => {
    expect(template.Transform).toBe('AWS::Serverless-2016-10-31');
    expect(template.Resources.ArtifactBucketPolicy.Properties.Bucket).toEqual({ Ref: 'ArtifactBucket' });
    expect(Object.keys(resources).length).toBeGreaterThan(10);
  });

  // cfn-lint: test/aws/stack/cfn-lint.test.ts (errors and warnings).

  it('refers only to resources, parameters and conditions it defines', () => {
    expect(referenceProblems(resources)).toEqual([]);
  });

  describe('functions', () => {
    it('has functions', () => {
      expect(functions.map((f) => f.logicalId)).toContain('FargatePrepareFunction');
    });

    it.each(functions.map((f) => [f.logicalId, f] as const))(
      '%s runs on nodejs22.x, bundled by esbuild with KeepNames so error names survive',
      (_id, fn) => {
        const runtime = resources[fn.logicalId].Properties.Runtime ?? template.Globals.Function.Runtime;
        expect(runtime).toBe('nodejs22.x');
        expect(fn.buildMethod).toBe('esbuild');
        expect(fn.buildProperties).toMatchObject({ KeepNames: true, Format: 'cjs', Target: 'node22', Minify: true, Sourcemap: true });
        expect(resources[fn.logicalId].Properties.CodeUri).toBe('.');
      },
    );

    it.each(functions.map((f) => [f.logicalId, f] as const))('%s: Handler names an exported function', async (_id, fn) => {
      const { entry, exportName } = handlerSource(fn);
      expect(existsSync(join(ROOT, entry)), `${entry} exists`).toBe(true);
      const module = await import(pathToFileURL(join(ROOT, entry)).href);
      expect(typeof module[exportName], `${entry} exports function ${exportName}`).toBe('function');
    });

    it.each(functions.map((f) => [f.logicalId, f] as const))(
      '%s: every AWS call in its code is allowed by its policies',
      (_id, fn) => {
        const { entry } = handlerSource(fn);
        const properties = resources[fn.logicalId].Properties;
        const own = explicitRoleActions(properties) ?? allowedActions(properties);
        const allowed = STAGE_SESSION_CODE.has(entry) ? [...own, ...roleActions(resources.StageAccessRole)] : own;
        const missing = [...callsIn(entry)].filter((action) => !allows(allowed, action));
        expect(missing).toEqual([]);
      },
    );

    it('sees the calls it checks (the scan is not blind)', () => {
      const prepare = functions.find((f) => f.logicalId === 'FargatePrepareFunction')!;
      expect([...callsIn(handlerSource(prepare).entry)].sort()).toEqual([
        'ecs:DeregisterTaskDefinition',
        'ecs:DescribeTaskDefinition',
        'ecs:ListTaskDefinitions',
        'ecs:RegisterTaskDefinition',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ]);
    });

    it('lets fargate-prepare pass exactly the task roles, and only to ECS tasks', () => {
      const statements = resources.FargatePrepareFunction.Properties.Policies[0].Statement;
      const passRole = statements.find((s: Json) => s.Action === 'iam:PassRole');
      expect(passRole.Resource).toEqual([{ 'Fn::GetAtt': ['TaskExecutionRole', 'Arn'] }, { 'Fn::GetAtt': ['TaskRole', 'Arn'] }]);
      expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    });

    it('deploys one Lambda runner per memory tier from one handler, with the ephemeral storage parameter, once the runner exists', () => {
      const runners = functions.filter((f) => f.entryPoints.includes('functions/handlers/lambda-runner.ts'));
      if (!existsSync(join(ROOT, 'functions/handlers/lambda-runner.ts'))) {
        // Not on main yet: the template must not name it (the handler check above would fail).
        expect(runners).toEqual([]);
        return;
      }
      const memories = runners.map((f) => resources[f.logicalId].Properties.MemorySize).sort((a, b) => a - b);
      expect(memories).toEqual([...LAMBDA_RUNNER_TIERS_MB]);
      for (const f of runners) {
        expect(resources[f.logicalId].Properties.EphemeralStorage).toEqual({ Size: { Ref: 'LambdaEphemeralStorageMB' } });
        expect(resources[f.logicalId].Properties.Timeout).toBe(900);
      }
    });
  });

  describe('Fargate task roles', () => {
    it('lets the task role (which the build container can fetch too) only read the helper bundle and invoke StageCredentials', () => {
      const statements = resources.TaskRole.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
      expect(statements).toEqual([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Sub': '${ArtifactBucket.Arn}/helpers/*' } },
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['StageCredentialsFunction', 'Arn'] } },
      ]);
    });

    it('lets every Lambda runner only invoke StageCredentials (its credentials are within reach of the stage)', () => {
      const runners = functions.filter((f) => f.entryPoints.includes('functions/handlers/lambda-runner.ts'));
      expect(runners.length).toBeGreaterThan(0);
      for (const runner of runners) {
        expect(allowedActions(resources[runner.logicalId].Properties)).toEqual(['lambda:InvokeFunction']);
      }
    });

    it('makes every AWS call of the helper containers with the task role or the stage session, none with Secrets Manager or SSM', () => {
      const calls = [...callsIn('functions/runner/fargate-helper.ts')];
      const missing = calls.filter((a) => !allows([...roleActions(resources.TaskRole), ...roleActions(resources.StageAccessRole)], a));
      expect(missing).toEqual([]);
      expect(calls).toContain('lambda:InvokeFunction');
      expect(calls).toContain('s3:GetObject');
      expect(calls.filter((a) => a.startsWith('secretsmanager:') || a.startsWith('ssm:'))).toEqual([]);
    });

    it('lets the execution role pull images and write the task log group only', () => {
      expect(roleActions(resources.TaskExecutionRole).sort()).toEqual([
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetAuthorizationToken',
        'ecr:GetDownloadUrlForLayer',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
    });

    it('gives the cluster both FARGATE and FARGATE_SPOT capacity providers', () => {
      expect(resources.BuildCluster.Properties.CapacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
    });
  });

  describe('state machine', () => {
    const asl = join(ROOT, 'statemachines/build.asl.json');

    it('is in the template exactly when its definition file exists', () => {
      expect(stateMachines.length).toBe(existsSync(asl) ? 1 : 0);
    });

    it.each(stateMachines)('%s: every ${X} in the definition has a substitution, and every substitution is used', (_id, sm) => {
      const definition = readFileSync(join(ROOT, sm.Properties.DefinitionUri), 'utf8');
      const placeholders = new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
      expect(new Set(Object.keys(sm.Properties.DefinitionSubstitutions))).toEqual(placeholders);
      expect(sm.Properties.Type).toBe('STANDARD');
    });

    it.each(stateMachines)('%s: may run, watch and stop ECS tasks as ecs:runTask.sync needs', (_id, sm) => {
      const allowed = allowedActions(sm.Properties);
      for (const action of ['ecs:RunTask', 'ecs:StopTask', 'ecs:DescribeTasks', 'events:PutTargets', 'events:PutRule', 'events:DescribeRule', 'iam:PassRole', 'lambda:InvokeFunction']) {
        expect(allows(allowed, action), action).toBe(true);
      }
      const events = sm.Properties.Policies.flatMap((p: Json) => p.Statement ?? []).find((s: Json) => [s.Action].flat().includes('events:PutRule'));
      expect(events.Resource).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForECSTaskRule',
      });
    });
  });

  describe('artifact bucket', () => {
    const bucket = resources.ArtifactBucket.Properties;

    it('blocks every kind of public access', () => {
      expect(bucket.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    });

    it('encrypts at rest', () => {
      const rule = bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault;
      expect(['AES256', 'aws:kms']).toContain(rule.SSEAlgorithm);
    });

    it('denies every request that is not over TLS, on the bucket and its objects', () => {
      const statements = resources.ArtifactBucketPolicy.Properties.PolicyDocument.Statement;
      const deny = statements.find((s: Json) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      expect(deny).toMatchObject({ Principal: '*', Action: 's3:*' });
      expect(deny.Resource).toEqual([{ 'Fn::GetAtt': ['ArtifactBucket', 'Arn'] }, { 'Fn::Sub': '${ArtifactBucket.Arn}/*' }]);
    });

    it('expires builds/', () => {
      const rule = bucket.LifecycleConfiguration.Rules.find((r: Json) => r.Prefix === 'builds/');
      expect(rule).toMatchObject({ Status: 'Enabled', ExpirationInDays: { Ref: 'BuildRetentionDays' } });
    });

    it('expires budget reservations a day after the longest they can count (the shorter of overlapping rules wins)', () => {
      const rule = bucket.LifecycleConfiguration.Rules.find((r: Json) => r.Prefix === RESERVATIONS_PREFIX);
      expect(rule).toMatchObject({ Status: 'Enabled', ExpirationInDays: MAX_RESERVATION_SECONDS / 86_400 + 1 });
    });
  });

  it('encrypts both topics with the AWS managed SNS key', () => {
    for (const id of ['BuildRequestsTopic', 'BuildReportsTopic']) {
      expect(resources[id].Properties.KmsMasterKeyId).toBe('alias/aws/sns');
    }
  });

  it('keeps every log group for a bounded time', () => {
    for (const [id, group] of resourcesOfType('AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays, id).toEqual({ Ref: 'LogRetentionDays' });
    }
  });

  it('sends every function\'s logs to a log group of its own with retention', () => {
    const used = new Set<string>();
    for (const fn of functions) {
      const group = resources[fn.logicalId].Properties.LoggingConfig?.LogGroup?.Ref;
      expect(resources[group]?.Type, fn.logicalId).toBe('AWS::Logs::LogGroup');
      expect(used.has(group), `${group} is shared`).toBe(false);
      used.add(group);
    }
  });
});
