/**
 * A minimal resolver from template.yaml to the identity policies of the roles user code
 * can reach, for @cloud-copilot/iam-simulate. (The template helper is building a general
 * harness in test/support/iam/; until it lands this resolves just the intrinsics these
 * roles use: Ref, Fn::GetAtt, Fn::Sub (string form), Fn::If, with fixed ARNs for the
 * stack's resources.)
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { yamlParse } from 'yaml-cfn';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const BUCKET = 'buildfarm-artifactbucket-0a1b2c3d4e5f';
export const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
export const WEBHOOK_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:buildfarm-system/webhook-secret-AbC123`;
export const GITHUB_TOKEN_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:buildfarm-system/github-token-XyZ789`;
export const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

const ROOT = resolve(import.meta.dirname, '../../..');
export const template: Json = yamlParse(readFileSync(join(ROOT, 'template.yaml'), 'utf8'));

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::StackName': 'buildfarm',
  'AWS::URLSuffix': 'amazonaws.com',
};
const PARAMETERS: Record<string, string> = { WebhookSecretArn: WEBHOOK_SECRET_ARN, GitHubTokenSecretArn: GITHUB_TOKEN_SECRET_ARN };
const CONDITIONS: Record<string, boolean> = { HasGitHubToken: true, CreateVpc: true, HasRunnerLayers: false, HasNotificationEmail: false };

function ref(name: string): string {
  if (name in PSEUDO) return PSEUDO[name]!;
  if (name in PARAMETERS) return PARAMETERS[name]!;
  if (name === 'ArtifactBucket') return BUCKET;
  const resource = template.Resources[name];
  if (!resource) throw new Error(`Ref ${name}: not in the template`);
  return name; // a function's or role's name: the logical id stands in for it
}

function getAtt(name: string, attribute: string): string {
  const resource = template.Resources[name];
  if (!resource) throw new Error(`GetAtt ${name}: not in the template`);
  if (name === 'ArtifactBucket' && attribute === 'Arn') return BUCKET_ARN;
  if (resource.Type === 'AWS::Serverless::Function' && attribute === 'Arn') return functionArn(name);
  if (resource.Type === 'AWS::IAM::Role' && attribute === 'Arn') return roleArn(name);
  throw new Error(`GetAtt ${name}.${attribute}: not resolved by this harness`);
}

export function resolveIntrinsics(node: Json): Json {
  if (Array.isArray(node)) return node.map(resolveIntrinsics).filter((n) => n !== NO_VALUE);
  if (!node || typeof node !== 'object') return node;
  if ('Ref' in node) return node.Ref === 'AWS::NoValue' ? NO_VALUE : ref(node.Ref);
  if ('Fn::GetAtt' in node) return getAtt(node['Fn::GetAtt'][0], node['Fn::GetAtt'][1]);
  if ('Fn::Sub' in node) {
    return (node['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, expr: string) => {
      const [name, attribute] = expr.split('.');
      return attribute ? getAtt(name!, attribute) : ref(name!);
    });
  }
  if ('Fn::If' in node) {
    const [condition, yes, no] = node['Fn::If'];
    if (!(condition in CONDITIONS)) throw new Error(`If ${condition}: not resolved by this harness`);
    return resolveIntrinsics(CONDITIONS[condition] ? yes : no);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveIntrinsics(v)]).filter(([, v]) => v !== NO_VALUE));
}
const NO_VALUE = Symbol('AWS::NoValue');

export interface NamedPolicy {
  name: string;
  policy: Json;
}

/** AWSLambdaBasicExecutionRole, which SAM attaches to every function with Policies (its published document). */
const BASIC_EXECUTION: NamedPolicy = {
  name: 'AWSLambdaBasicExecutionRole',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }] },
};

/** The identity policies of an AWS::IAM::Role, plus any AWS::IAM::Policy attached to it. */
export function rolePolicies(logicalId: string): NamedPolicy[] {
  const role = template.Resources[logicalId];
  const inline: NamedPolicy[] = (role.Properties.Policies ?? []).map((p: Json) => ({ name: p.PolicyName, policy: resolveIntrinsics(p.PolicyDocument) }));
  const attached: NamedPolicy[] = Object.entries(template.Resources)
    .filter(([, r]: [string, Json]) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === logicalId))
    .map(([id, r]: [string, Json]) => ({ name: id, policy: resolveIntrinsics(r.Properties.PolicyDocument) }));
  const managed = (role.Properties.ManagedPolicyArns ?? []).length > 0 ? [BASIC_EXECUTION] : [];
  return [...inline, ...attached, ...managed];
}

/** The role SAM makes for a function from its `Policies` (inline documents only, as the runners use). */
export function functionPolicies(logicalId: string): NamedPolicy[] {
  const policies = template.Resources[logicalId].Properties.Policies ?? [];
  const inline = (Array.isArray(policies) ? policies : [policies]).map((p: Json, i: number) => {
    if (!p.Statement) throw new Error(`${logicalId}: policy ${i} is not an inline document (extend the harness)`);
    return { name: `${logicalId}Policy${i}`, policy: resolveIntrinsics(p) };
  });
  return [...inline, BASIC_EXECUTION];
}

/** The trust policy of a role, as a resource policy for sts:AssumeRole. */
export function trustPolicy(logicalId: string): Json {
  return resolveIntrinsics(template.Resources[logicalId].Properties.AssumeRolePolicyDocument);
}
