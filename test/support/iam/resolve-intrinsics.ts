/**
 * Resolves a CloudFormation template's intrinsic functions to the concrete values a stack
 * would have: parameters (defaults, then overrides), pseudo parameters, conditions, and each
 * resource's Ref and GetAtt Arn as CloudFormation documents them per type
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html,
 * each resource type's "Return values"). Physical names follow CloudFormation's
 * `{stack}-{logicalId}-{suffix}` pattern with a fixed suffix, so ARNs are stable in tests.
 */
import type { CfnTemplate } from './sam-template.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface StackContext {
  accountId: string;
  region: string;
  partition: string;
  stackName: string;
  /** Parameter values over the template's defaults. */
  parameters: Record<string, string>;
}

export const DEFAULT_STACK: StackContext = {
  accountId: '123456789012',
  region: 'us-east-1',
  partition: 'aws',
  stackName: 'buildfarm',
  parameters: {
    WebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm-webhook-secret-AbCdEf',
  },
};

const SUFFIX = 'A1B2C3D4E5F6';

/** Marks a value a condition removed (`AWS::NoValue`). */
export const NO_VALUE = Symbol('AWS::NoValue');

export class StackResolver {
  readonly parameters: Record<string, string | string[]>;
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    readonly template: CfnTemplate,
    readonly stack: StackContext = DEFAULT_STACK,
  ) {
    this.parameters = {};
    for (const [name, spec] of Object.entries(template.Parameters ?? {})) {
      const value = stack.parameters[name] ?? spec.Default;
      if (value === undefined) throw new Error(`parameter ${name} has no default: give it in StackContext.parameters`);
      this.parameters[name] = spec.Type === 'CommaDelimitedList' || spec.Type?.startsWith('List<') ? splitList(String(value)) : String(value);
    }
    for (const name of Object.keys(stack.parameters)) {
      if (!(name in this.parameters)) throw new Error(`parameter ${name} is not in the template`);
    }
  }

  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const expression = this.template.Conditions?.[name];
    if (expression === undefined) throw new Error(`condition ${name} is not in the template`);
    const value = this.truth(expression);
    this.conditionCache.set(name, value);
    return value;
  }

  /** Resources that exist with these parameters. */
  deployedResources(): Record<string, Json> {
    return Object.fromEntries(Object.entries(this.template.Resources).filter(([, r]) => !r.Condition || this.condition(r.Condition)));
  }

  /** A resource this stack creates; a reference to one its condition leaves out fails, as in CloudFormation. */
  private deployed(logicalId: string, reference: string): Json {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`${reference}: no such resource`);
    if (resource.Condition && !this.condition(resource.Condition)) {
      throw new Error(`${reference}: ${logicalId} is not created (condition ${resource.Condition} is false)`);
    }
    return resource;
  }

  /** What `Ref` of a resource returns. */
  refOf(logicalId: string): string {
    const resource = this.deployed(logicalId, `Ref ${logicalId}`);
    const { accountId: account, region, partition, stackName } = this.stack;
    const name = this.physicalName(logicalId);
    switch (resource.Type) {
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${region}:${account}:${name}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return this.getAtt(logicalId, 'Arn');
      case 'AWS::EC2::Subnet':
        return `subnet-${hex(logicalId)}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${hex(logicalId)}`;
      case 'AWS::EC2::VPC':
        return `vpc-${hex(logicalId)}`;
      case 'AWS::EC2::InternetGateway':
        return `igw-${hex(logicalId)}`;
      case 'AWS::EC2::RouteTable':
        return `rtb-${hex(logicalId)}`;
      case 'AWS::ApiGatewayV2::Api':
        return hex(logicalId).slice(0, 10);
      default:
        void stackName;
        return name;
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const resource = this.deployed(logicalId, `GetAtt ${logicalId}.${attribute}`);
    const { accountId: account, region, partition } = this.stack;
    const name = this.physicalName(logicalId);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::S3::Bucket.Arn':
        return `arn:${partition}:s3:::${name}`;
      case 'AWS::SNS::Topic.TopicArn':
        return this.refOf(logicalId);
      case 'AWS::SNS::Topic.TopicName':
        return name;
      case 'AWS::SQS::Queue.Arn':
        return `arn:${partition}:sqs:${region}:${account}:${name}`;
      case 'AWS::SQS::Queue.QueueName':
        return name;
      case 'AWS::Lambda::Function.Arn':
        return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:${partition}:iam::${account}:role/${name}`;
      case 'AWS::ECS::Cluster.Arn':
        return `arn:${partition}:ecs:${region}:${account}:cluster/${name}`;
      // The documented Arn of a log group ends in `:*` (AWS::Logs::LogGroup, Return values).
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:${partition}:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::StepFunctions::StateMachine.Arn':
        return `arn:${partition}:states:${region}:${account}:stateMachine:${name}`;
      case 'AWS::StepFunctions::StateMachine.Name':
        return name;
      // AWS::Events::Rule, Return values: Arn is arn:...:events:region:account:rule/name (default event bus).
      case 'AWS::Events::Rule.Arn':
        return `arn:${partition}:events:${region}:${account}:rule/${name}`;
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `https://${this.refOf(logicalId)}.execute-api.${region}.amazonaws.com`;
      default:
        throw new Error(`GetAtt ${logicalId}.${attribute} (${resource.Type}): add it to the resolver`);
    }
  }

  /** The name CloudFormation gives (or the template sets) a resource. */
  physicalName(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    const props = resource?.Properties ?? {};
    const explicit = props.FunctionName ?? props.RoleName ?? props.BucketName ?? props.TopicName ?? props.QueueName ?? props.StateMachineName ?? props.LogGroupName ?? props.ClusterName;
    if (explicit !== undefined) return String(this.resolve(explicit));
    const generated = `${this.stack.stackName}-${logicalId}-${SUFFIX}`;
    return resource?.Type === 'AWS::S3::Bucket' ? generated.toLowerCase().slice(0, 63) : generated;
  }

  /** `node` with every intrinsic function replaced by its value; NO_VALUE entries dropped. */
  resolve(node: Json): Json {
    if (Array.isArray(node)) return node.map((n) => this.resolve(n)).filter((n) => n !== NO_VALUE);
    if (!node || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1) {
      const [fn] = keys as [string];
      const arg = node[fn];
      switch (fn) {
        case 'Ref':
          return this.ref(arg);
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
          return this.getAtt(id, attribute);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Join':
          return (this.resolve(arg[1]) as string[]).join(arg[0]);
        case 'Fn::If':
          return this.condition(arg[0]) ? this.resolve(arg[1]) : this.resolve(arg[2]);
        case 'Fn::Select':
          return (this.resolve(arg[1]) as Json[])[Number(this.resolve(arg[0]))];
        case 'Fn::Split':
          return String(this.resolve(arg[1])).split(arg[0]);
        case 'Fn::GetAZs':
          return ['a', 'b', 'c'].map((z) => `${this.stack.region}${z}`);
        case 'Fn::Equals':
        case 'Fn::Not':
        case 'Fn::And':
        case 'Fn::Or':
        case 'Condition':
          return this.truth(node);
      }
    }
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(node)) {
      const resolved = this.resolve(value);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private ref(name: string): Json {
    switch (name) {
      case 'AWS::AccountId':
        return this.stack.accountId;
      case 'AWS::Region':
        return this.stack.region;
      case 'AWS::Partition':
        return this.stack.partition;
      case 'AWS::StackName':
        return this.stack.stackName;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    if (name in this.parameters) return this.parameters[name];
    return this.refOf(name);
  }

  private sub(arg: Json): string {
    const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
    const values = Object.fromEntries(Object.entries(variables ?? {}).map(([k, v]) => [k, this.resolve(v)]));
    return String(text).replace(/\$\{([^}]+)\}/g, (whole, expression: string) => {
      if (expression.startsWith('!')) return whole.replace('${!', '${');
      if (expression in values) return String(values[expression]);
      const dot = expression.indexOf('.');
      if (dot > 0 && !expression.startsWith('AWS::')) return this.getAtt(expression.slice(0, dot), expression.slice(dot + 1));
      const value = this.ref(expression);
      return Array.isArray(value) ? value.join(',') : String(value);
    });
  }

  private truth(expression: Json): boolean {
    if (typeof expression === 'boolean') return expression;
    const [fn] = Object.keys(expression) as [string];
    const arg = expression[fn];
    switch (fn) {
      case 'Fn::Equals': {
        const [a, b] = arg.map((x: Json) => this.resolve(x));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !this.truth(arg[0]);
      case 'Fn::And':
        return arg.every((x: Json) => this.truth(x));
      case 'Fn::Or':
        return arg.some((x: Json) => this.truth(x));
      case 'Condition':
        return this.condition(arg);
      default:
        throw new Error(`condition function ${fn}: add it to the resolver`);
    }
  }
}

/** CloudFormation splits a CommaDelimitedList on commas; an empty string is one empty item. */
function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim());
}

function hex(seed: string): string {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return (h.toString(16).padStart(8, '0') + '0123456789abcdef').slice(0, 17);
}
