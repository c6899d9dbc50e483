/**
 * The SAM-translated template, filtered to what moto's CloudFormation can create
 * (README-template.md lists what is left out and why):
 *  - resource types moto's CloudFormation does not implement are removed, with every resource and
 *    output that refers to one (moto would skip them and resolve references to them wrongly);
 *  - the state machine's definition is inlined: moto reads only DefinitionString and ignores
 *    DefinitionSubstitutions, so the substitutions become an Fn::Sub variable map, which is the
 *    replacement DefinitionSubstitutions documents (`${Name}` -> value), resolved by moto itself.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CfnTemplate } from '../iam/sam-template.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const ROOT = resolve(import.meta.dirname, '../../..');

/** Resource types in the template that moto 5.2.1's CloudFormation does not create, and why that is acceptable. */
export const UNSUPPORTED_TYPES: Record<string, string> = {
  'AWS::ApiGatewayV2::Api': 'moto CloudFormation has no API Gateway v2 models; the route and stage are checked on the translated JSON',
  'AWS::ApiGatewayV2::Stage': 'as AWS::ApiGatewayV2::Api (its access-log format is checked against the documented variables)',
  'AWS::S3::BucketPolicy': 'not implemented by moto CloudFormation; the TLS-only policy is checked on the template',
  'AWS::SQS::QueuePolicy': 'not implemented by moto CloudFormation; SNS redrive permission is checked on the translated JSON',
  'AWS::SNS::Subscription': 'not implemented by moto CloudFormation (only a topic\'s inline Subscription); subscriptions are checked on the translated JSON',
  'AWS::IAM::ServiceLinkedRole': 'not implemented by moto CloudFormation (and created only on request)',
};

export interface FilteredTemplate {
  template: CfnTemplate;
  /** Logical id -> why it was left out. */
  leftOut: Record<string, string>;
  /** S3 keys of function code the stack expects in `packageBucket` (what `sam package` uploads). */
  packageKeys: string[];
  packageBucket: string;
}

function refersTo(node: Json, ids: Set<string>): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const hit = refersTo(n, ids);
      if (hit) return hit;
    }
    return undefined;
  }
  if (!node || typeof node !== 'object') return undefined;
  // A reference inside a condition's branch is dropped with the branch (dropBranches), not with its holder.
  if (Array.isArray(node['Fn::If'])) return undefined;
  if (typeof node.Ref === 'string' && ids.has(node.Ref)) return node.Ref;
  if (Array.isArray(node['Fn::GetAtt']) && ids.has(node['Fn::GetAtt'][0])) return node['Fn::GetAtt'][0];
  if (typeof node['Fn::Sub'] === 'string' || Array.isArray(node['Fn::Sub'])) {
    const text = Array.isArray(node['Fn::Sub']) ? node['Fn::Sub'][0] : node['Fn::Sub'];
    for (const [, name] of String(text).matchAll(/\$\{([^}!.]+)[^}]*\}/g)) if (ids.has(name!)) return name;
  }
  for (const value of Object.values(node)) {
    const hit = refersTo(value, ids);
    if (hit) return hit;
  }
  return undefined;
}

/** Branches of Fn::If that refer to a left-out resource become AWS::NoValue (only a non-default condition takes them). */
function dropBranches(node: Json, ids: Set<string>): Json {
  if (Array.isArray(node)) return node.map((n) => dropBranches(n, ids));
  if (!node || typeof node !== 'object') return node;
  if (Array.isArray(node['Fn::If'])) {
    const [condition, yes, no] = node['Fn::If'];
    const keep = (branch: Json) => (refersTo({ branch }, ids) || refersToAnywhere(branch, ids) ? { Ref: 'AWS::NoValue' } : dropBranches(branch, ids));
    return { 'Fn::If': [condition, keep(yes), keep(no)] };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, dropBranches(v, ids)]));
}

function refersToAnywhere(node: Json, ids: Set<string>): boolean {
  const text = JSON.stringify(node);
  return [...ids].some((id) => text.includes(`"Ref":"${id}"`) || text.includes(`"Fn::GetAtt":["${id}"`) || text.includes(`\${${id}`));
}

export function motoStackTemplate(translated: CfnTemplate): FilteredTemplate {
  const template: CfnTemplate = JSON.parse(JSON.stringify(translated));
  const leftOut: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    const why = UNSUPPORTED_TYPES[r.Type];
    if (why) leftOut[id] = `${r.Type}: ${why}`;
  }
  // Whatever refers to a left-out resource goes too, until nothing changes.
  let changed = true;
  while (changed) {
    changed = false;
    const gone = new Set(Object.keys(leftOut));
    for (const [id, r] of Object.entries(template.Resources)) {
      if (gone.has(id)) continue;
      const target = refersTo(r, gone);
      if (target) {
        leftOut[id] = `refers to ${target}, which is left out`;
        changed = true;
      }
    }
  }
  for (const id of Object.keys(leftOut)) delete template.Resources[id];
  const gone = new Set(Object.keys(leftOut));
  template.Resources = dropBranches(template.Resources, gone);
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    const target = refersTo(output, gone);
    if (target) {
      leftOut[`Outputs.${name}`] = `refers to ${target}, which is left out`;
      delete template.Outputs![name];
    }
  }

  // CloudFormation hands a Number parameter to intrinsic functions as a string ("when you use the
  // parameter elsewhere in your template, the parameter value becomes a string", Parameters docs);
  // moto keeps a number, so `!Equals [!Ref LambdaRunnerMaxMemoryMB, '2048']` would be false there.
  // Declared as String, moto compares as CloudFormation does.
  for (const spec of Object.values(template.Parameters ?? {})) {
    if (spec.Type === 'Number') {
      spec.Type = 'String';
      delete spec.MinValue;
      delete spec.MaxValue;
    }
    // YAML `Default: 2048` is a number too; CloudFormation reads parameter values as strings.
    if (typeof spec.Default === 'number') spec.Default = String(spec.Default);
    if (Array.isArray(spec.AllowedValues)) spec.AllowedValues = spec.AllowedValues.map(String);
  }

  const packageKeys: string[] = [];
  let packageBucket = '';
  for (const r of Object.values(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function' && r.Properties.Code?.S3Key) {
      packageBucket = r.Properties.Code.S3Bucket;
      packageKeys.push(r.Properties.Code.S3Key);
    }
    if (r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties.DefinitionS3Location) {
      const asl = readFileSync(join(ROOT, 'statemachines/build.asl.json'), 'utf8');
      r.Properties.DefinitionString = { 'Fn::Sub': [asl, r.Properties.DefinitionSubstitutions ?? {}] };
      delete r.Properties.DefinitionS3Location;
      delete r.Properties.DefinitionSubstitutions;
    }
  }
  return { template, leftOut, packageKeys: [...new Set(packageKeys)], packageBucket };
}
