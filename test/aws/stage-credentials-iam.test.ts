/**
 * Least privilege, proven by policy evaluation (@cloud-copilot/iam-simulate, AWS's
 * evaluation logic, not ours): for every credential a stage's commands can reach on AWS,
 * what it can and cannot do. The policies come from template.yaml (resolved by
 * test/support/iam-stage/) and, for the stage session, from the session policy our code
 * generates (domain/credentials/session-policy.ts), evaluated as STS would: the session
 * can do only what both the role's policies and the session policy allow.
 *
 * - the Lambda runner's role (user code reads it from /proc/$PPID/environ);
 * - the Fargate task role (every container, the build container included, can fetch it
 *   from 169.254.170.2);
 * - a stage session of StageAccessRole for stage `test` of build `b1` (the runner holds it
 *   in memory, so user code may get it too).
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { cacheEntryKey } from '../../functions/domain/cache/cache-keys.js';
import { cacheScopeFor } from '../../functions/domain/cache/scope.js';
import { stageGrant } from '../../functions/domain/credentials/grant.js';
import { stageSessionPolicy } from '../../functions/domain/credentials/session-policy.js';
import {
  ACCOUNT,
  BUCKET_ARN,
  GITHUB_TOKEN_SECRET_ARN,
  REGION,
  WEBHOOK_SECRET_ARN,
  functionArn,
  functionPolicies,
  roleArn,
  rolePolicies,
  trustPolicy,
  type NamedPolicy,
} from '../support/iam-stage/template-roles.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Credential {
  principal: string;
  identityPolicies: NamedPolicy[];
  sessionPolicy?: Json;
}

interface Request {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** For sts:AssumeRole: the target's trust policy. */
  resourcePolicy?: Json;
}

async function decide(credential: Credential, request: Request): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: credential.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: request.context ?? {},
    },
    identityPolicies: credential.identityPolicies,
    sessionPolicy: credential.sessionPolicy,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType === 'error') throw new Error(`simulation error for ${request.action} ${request.resource}: ${JSON.stringify(response.errors)}`);
  return response.overallResult;
}

const BUILD = 'b1';
const STAGE = 'test';
const object = (key: string) => `${BUCKET_ARN}/${key}`;
const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
const STAGE_CREDENTIALS = functionArn('StageCredentialsFunction');
const STAGE_ACCESS_ROLE = roleArn('StageAccessRole');

const sessionPolicy = stageSessionPolicy(BUCKET_ARN, stageGrant({ buildId: BUILD, stage: { name: STAGE, secrets: {} }, secretsWithheld: false, now: 0, lifetimeSeconds: 3600 }));

const CREDENTIALS: Record<string, Credential> = {
  'the Lambda runner role': { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/LambdaRunner1024FunctionRole/LambdaRunner1024Function`, identityPolicies: functionPolicies('LambdaRunner1024Function') },
  'the Fargate task role': { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/TaskRole/task-id`, identityPolicies: rolePolicies('TaskRole') },
  'the stage session': { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/StageAccessRole/bf.${BUILD}.${STAGE}`, identityPolicies: rolePolicies('StageAccessRole'), sessionPolicy },
};

/** What no credential within user code's reach may do. */
const NEVER: [string, Request][] = [
  ['read another build\'s plan', { action: 's3:GetObject', resource: object('builds/b2/plan.json') }],
  ['read another build\'s artifacts', { action: 's3:GetObject', resource: object('builds/b2/stages/test/artifacts/app.jar') }],
  ['write another stage\'s result', { action: 's3:PutObject', resource: object(`builds/${BUILD}/stages/compile/result.json`) }],
  ['rewrite its build\'s plan', { action: 's3:PutObject', resource: object(`builds/${BUILD}/plan.json`) }],
  ['write into another build', { action: 's3:PutObject', resource: object('builds/b2/stages/test/result.json') }],
  ['read a grant record', { action: 's3:GetObject', resource: object('grants/0123.json') }],
  ['write a grant record', { action: 's3:PutObject', resource: object('grants/0123.json') }],
  ['list the whole bucket', { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': '' } }],
  ['read the webhook secret', { action: 'secretsmanager:GetSecretValue', resource: WEBHOOK_SECRET_ARN }],
  ['read the GitHub token', { action: 'secretsmanager:GetSecretValue', resource: GITHUB_TOKEN_SECRET_ARN }],
  ['read a pipeline secret directly', { action: 'secretsmanager:GetSecretValue', resource: secret('buildfarm/deploy-key-AbC123') }],
  ['read an SSM parameter', { action: 'ssm:GetParameter', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/buildfarm/npm-token` }],
  ['assume StageAccessRole itself', { action: 'sts:AssumeRole', resource: STAGE_ACCESS_ROLE, resourcePolicy: trustPolicy('StageAccessRole') }],
  ['invoke a runner function', { action: 'lambda:InvokeFunction', resource: functionArn('LambdaRunner10240Function') }],
  ['start a build', { action: 'states:StartExecution', resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:buildfarm-build` }],
];

describe('IAM: credentials within a stage\'s reach on AWS', () => {
  describe.each(Object.entries(CREDENTIALS))('%s', (_name, credential) => {
    it.each(NEVER)('cannot %s', async (_what, request) => {
      expect(await decide(credential, request)).not.toBe('Allowed');
    });
  });

  it('the runner and task roles can invoke StageCredentials (their only way to S3), the stage session cannot', async () => {
    const invoke = { action: 'lambda:InvokeFunction', resource: STAGE_CREDENTIALS };
    expect(await decide(CREDENTIALS['the Lambda runner role']!, invoke)).toBe('Allowed');
    expect(await decide(CREDENTIALS['the Fargate task role']!, invoke)).toBe('Allowed');
    expect(await decide(CREDENTIALS['the stage session']!, invoke)).not.toBe('Allowed');
  });

  it('the runner role cannot touch even its own build\'s objects without the stage session', async () => {
    const runner = CREDENTIALS['the Lambda runner role']!;
    expect(await decide(runner, { action: 's3:GetObject', resource: object(`builds/${BUILD}/source.tar.gz`) })).not.toBe('Allowed');
    expect(await decide(runner, { action: 's3:PutObject', resource: object(`builds/${BUILD}/stages/${STAGE}/result.json`) })).not.toBe('Allowed');
  });

  it('the task role reads the helper bundle and nothing of any build', async () => {
    const task = CREDENTIALS['the Fargate task role']!;
    expect(await decide(task, { action: 's3:GetObject', resource: object('helpers/fargate-helper-0123abcd.js') })).toBe('Allowed');
    expect(await decide(task, { action: 's3:GetObject', resource: object(`builds/${BUILD}/source.tar.gz`) })).not.toBe('Allowed');
  });

  it('the stage session reads its own build, writes its own outputs, lists only its build', async () => {
    const session = CREDENTIALS['the stage session']!;
    expect(await decide(session, { action: 's3:GetObject', resource: object(`builds/${BUILD}/source.tar.gz`) })).toBe('Allowed');
    expect(await decide(session, { action: 's3:GetObject', resource: object(`builds/${BUILD}/stages/compile/artifacts/app.jar`) })).toBe('Allowed');
    expect(await decide(session, { action: 's3:PutObject', resource: object(`builds/${BUILD}/stages/${STAGE}/artifacts/report.html`) })).toBe('Allowed');
    expect(await decide(session, { action: 's3:PutObject', resource: object(`builds/${BUILD}/stages/${STAGE}/result.json`) })).toBe('Allowed');
    expect(await decide(session, { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': `builds/${BUILD}/stages/` } })).toBe('Allowed');
    expect(await decide(session, { action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': 'builds/b2/' } })).not.toBe('Allowed');
  });

  it('the session policy is what narrows StageAccessRole: without it the role alone would reach every build (the test can fail)', async () => {
    const roleAlone: Credential = { ...CREDENTIALS['the stage session']!, sessionPolicy: undefined };
    expect(await decide(roleAlone, { action: 's3:GetObject', resource: object('builds/b2/plan.json') })).toBe('Allowed');
  });
});

describe('IAM: the dependency cache through the stage session (domain/cache/scope.ts)', () => {
  const REPO = 'octo/app';
  const HASH = 'a'.repeat(64);
  const cached = { name: STAGE, secrets: {}, cache: { paths: ['~/.npm'], keyFiles: ['package-lock.json'], prefix: 'npm' } };
  const session = (scope: Parameters<typeof cacheScopeFor>[0]): Credential => ({
    ...CREDENTIALS['the stage session']!,
    sessionPolicy: stageSessionPolicy(BUCKET_ARN, stageGrant({ buildId: BUILD, stage: cached, secretsWithheld: false, now: 0, lifetimeSeconds: 3600, cacheScope: cacheScopeFor(scope) })),
  });
  const entry = (repository: string, branch: string) => object(cacheEntryKey(repository, branch, 'npm', HASH));
  const get = (resource: string) => ({ action: 's3:GetObject', resource });
  const put = (resource: string) => ({ action: 's3:PutObject', resource });
  const list = (prefix: string) => ({ action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': prefix } });

  it('a push to main reads and writes main\'s cache, and no other branch\'s', async () => {
    const push = session({ repository: REPO, event: 'push', branch: 'main', fromFork: false });
    expect(await decide(push, get(entry(REPO, 'main')))).toBe('Allowed');
    expect(await decide(push, put(entry(REPO, 'main')))).toBe('Allowed');
    expect(await decide(push, list('caches/octo/app/main/npm/'))).toBe('Allowed');
    expect(await decide(push, put(entry(REPO, 'release')))).not.toBe('Allowed');
    expect(await decide(push, get(entry(REPO, 'release')))).not.toBe('Allowed');
  });

  it('a branch scope does not cover a branch whose name extends it (feature vs feature/x)', async () => {
    const push = session({ repository: REPO, event: 'push', branch: 'feature', fromFork: false });
    expect(await decide(push, put(entry(REPO, 'feature/x')))).not.toBe('Allowed');
  });

  it('a pull request session reads its head and base branches\' caches and cannot write the base branch\'s (nor its own)', async () => {
    const pr = session({ repository: REPO, event: 'pull_request', branch: 'feature', baseBranch: 'main', fromFork: false });
    expect(await decide(pr, get(entry(REPO, 'feature')))).toBe('Allowed');
    expect(await decide(pr, get(entry(REPO, 'main')))).toBe('Allowed');
    expect(await decide(pr, list('caches/octo/app/main/npm/'))).toBe('Allowed');
    expect(await decide(pr, put(entry(REPO, 'main')))).not.toBe('Allowed');
    expect(await decide(pr, put(entry(REPO, 'feature')))).not.toBe('Allowed');
    expect(await decide(pr, { action: 's3:AbortMultipartUpload', resource: entry(REPO, 'main') })).not.toBe('Allowed');
  });

  it('a fork\'s pull request session reads only the base branch\'s cache and writes none', async () => {
    const fork = session({ repository: REPO, event: 'pull_request', branch: 'main', baseBranch: 'release', fromFork: true });
    expect(await decide(fork, get(entry(REPO, 'release')))).toBe('Allowed');
    expect(await decide(fork, get(entry(REPO, 'main')))).not.toBe('Allowed');
    for (const branch of ['main', 'release']) expect(await decide(fork, put(entry(REPO, branch)))).not.toBe('Allowed');
  });

  it('a session cannot read or list another repository\'s caches', async () => {
    const push = session({ repository: REPO, event: 'push', branch: 'main', fromFork: false });
    expect(await decide(push, get(entry('octo/other', 'main')))).not.toBe('Allowed');
    expect(await decide(push, get(entry('octo/app-private', 'main')))).not.toBe('Allowed');
    expect(await decide(push, list('caches/octo/other/main/'))).not.toBe('Allowed');
    expect(await decide(push, list('caches/'))).not.toBe('Allowed');
  });

  it('a stage without a cache reaches no cache at all', async () => {
    expect(await decide(CREDENTIALS['the stage session']!, get(entry(REPO, 'main')))).not.toBe('Allowed');
  });

  it('StageAccessRole alone would reach every cache: the session policy is what scopes it (the test can fail)', async () => {
    const roleAlone: Credential = { ...CREDENTIALS['the stage session']!, sessionPolicy: undefined };
    expect(await decide(roleAlone, put(entry('octo/other', 'main')))).toBe('Allowed');
  });
});

describe('IAM: StageCredentials (control plane, runs no user code)', () => {
  const control: Credential = { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/StageCredentialsRole/StageCredentialsFunction`, identityPolicies: rolePolicies('StageCredentialsRole') };

  it('may assume StageAccessRole (its trust names this role alone) and read declared buildfarm/ secrets', async () => {
    expect(await decide(control, { action: 'sts:AssumeRole', resource: STAGE_ACCESS_ROLE, resourcePolicy: trustPolicy('StageAccessRole') })).toBe('Allowed');
    expect(await decide(control, { action: 'secretsmanager:GetSecretValue', resource: secret('buildfarm/deploy-key-AbC123') })).toBe('Allowed');
  });

  it('is denied the system secrets explicitly, by the ARNs of the template parameters', async () => {
    expect(await decide(control, { action: 'secretsmanager:GetSecretValue', resource: WEBHOOK_SECRET_ARN })).toBe('ExplicitlyDenied');
    expect(await decide(control, { action: 'secretsmanager:GetSecretValue', resource: GITHUB_TOKEN_SECRET_ARN })).toBe('ExplicitlyDenied');
  });

  it('cannot write anywhere in the bucket', async () => {
    expect(await decide(control, { action: 's3:PutObject', resource: object(`builds/${BUILD}/stages/${STAGE}/result.json`) })).not.toBe('Allowed');
    expect(await decide(control, { action: 's3:PutObject', resource: object('grants/0123.json') })).not.toBe('Allowed');
  });
});
