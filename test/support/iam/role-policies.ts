/**
 * A role's identity policies as IAM would hold them after deployment: the inline policies
 * of the SAM-translated template with every intrinsic resolved, plus the AWS managed
 * policies it attaches (their documents copied here, since nothing offline can fetch them).
 */
import type { CfnTemplate } from './sam-template.js';
import { DEFAULT_STACK, StackResolver, type StackContext } from './resolve-intrinsics.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface IdentityPolicy {
  name: string;
  policy: { Version: string; Statement: Json[] };
  /** An AWS managed policy: AWS owns its statements; we can only choose to attach it. */
  awsManaged?: boolean;
}

/**
 * The AWS managed policies the template attaches, by ARN. SAM attaches
 * AWSLambdaBasicExecutionRole to every function role it creates
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html).
 */
const AWS_MANAGED_POLICIES: Record<string, IdentityPolicy['policy']> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
};

/** The role a function runs as: its `Role` property, or the one SAM created for it. */
export function roleOfFunction(template: CfnTemplate, functionId: string, stack: StackContext = DEFAULT_STACK): string {
  const fn = template.Resources[functionId];
  if (fn?.Type !== 'AWS::Lambda::Function') throw new Error(`${functionId} is not an AWS::Lambda::Function in the translated template`);
  const role = fn.Properties.Role;
  const id = role?.['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`${functionId}: Role is ${JSON.stringify(role)}, not a role of this template`);
  void stack;
  return id;
}

/** Every identity policy of `roleLogicalId`, resolved for `stack`. */
export function rolePolicies(template: CfnTemplate, roleLogicalId: string, stack: StackContext | StackResolver = DEFAULT_STACK): IdentityPolicy[] {
  const resolver = stack instanceof StackResolver ? stack : new StackResolver(template, stack);
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role`);
  const props = resolver.resolve(role.Properties);
  const inline: IdentityPolicy[] = (props.Policies ?? []).map((p: Json) => ({ name: p.PolicyName, policy: p.PolicyDocument }));
  const managed: IdentityPolicy[] = (props.ManagedPolicyArns ?? []).map((arn: string) => {
    const policy = AWS_MANAGED_POLICIES[arn];
    if (!policy) throw new Error(`${roleLogicalId}: managed policy ${arn} is unknown to the harness; add its document`);
    return { name: arn, policy, awsManaged: true };
  });
  // Policies attached from outside the role (AWS::IAM::Policy / ManagedPolicy with Roles: [this]).
  const attached: IdentityPolicy[] = Object.entries(resolver.deployedResources())
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .filter(([, r]) => (r.Properties.Roles ?? []).some((x: Json) => x?.Ref === roleLogicalId))
    .map(([id, r]) => ({ name: id, policy: resolver.resolve(r.Properties.PolicyDocument) }));
  return [...inline, ...attached, ...managed];
}

/** Each Allow statement split into one statement per (action, resource): the unit a grant is judged in. */
export function grantUnits(policies: IdentityPolicy[]): { policy: string; statement: Json }[] {
  const units: { policy: string; statement: Json }[] = [];
  for (const { name, policy, awsManaged } of policies) {
    if (awsManaged) continue;
    for (const statement of [policy.Statement].flat()) {
      if (statement.Effect !== 'Allow') continue;
      if (statement.NotAction || statement.NotResource) throw new Error(`${name}: NotAction/NotResource: judge it by hand`);
      for (const action of [statement.Action].flat()) {
        for (const resource of [statement.Resource].flat()) {
          units.push({ policy: name, statement: { ...statement, Action: action, Resource: resource } });
        }
      }
    }
  }
  return units;
}
