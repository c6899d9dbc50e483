/**
 * Loads `statemachines/build.asl.json` and fills its `${Name}` placeholders the way SAM's
 * `DefinitionSubstitutions` does (plain text replacement), refusing unknown or missing names so
 * the definition, the template and the local farm cannot drift apart.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import {
  BUILD_STATE_MACHINE_PLACEHOLDERS,
  type BuildStateMachinePlaceholder,
} from '../handlers/build-state-machine.js';
import { farmFile } from './farm-files.js';

export type Substitutions = Record<BuildStateMachinePlaceholder, string>;

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

export class UnknownPlaceholder extends Error {
  override readonly name = 'UnknownPlaceholder';
}

export function definitionUrl(): URL {
  return pathToFileURL(farmFile('statemachines', 'build.asl.json'));
}

export async function readBuildDefinition(): Promise<string> {
  return readFile(definitionUrl(), 'utf8');
}

/** Every placeholder name the text uses. */
export function placeholdersIn(text: string): Set<string> {
  return new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!));
}

export function substitutePlaceholders(text: string, values: Substitutions): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(name in BUILD_STATE_MACHINE_PLACEHOLDERS)) throw new UnknownPlaceholder(`${whole} is not a known placeholder`);
    const value = values[name as BuildStateMachinePlaceholder];
    // JSON-escape: a value lands inside a JSON string.
    return JSON.stringify(value).slice(1, -1);
  });
}

const LOCAL_ACCOUNT = '000000000000';
const localFunction = (region: string, name: string) => `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:buildfarm-local-${name}`;

/**
 * The local Lambda runner of one memory tier. On AWS each tier is a function of its own with its
 * memory configured (the Schedule task picks it from RUNNER_FUNCTIONS), and the runner learns its
 * memory from the function it runs in; locally the function's name carries it, so the local
 * executor knows it from the invocation alone (memoryOfLocalRunner), with no read of the plan.
 */
export function localRunnerFunction(region: string, memoryMB: number): string {
  return localFunction(region, `lambda-runner-${memoryMB}mb`);
}

/** The memory (MB) a localRunnerFunction name carries; undefined for any other function. */
export function memoryOfLocalRunner(functionName: string): number | undefined {
  const match = /:function:buildfarm-local-lambda-runner-(\d+)mb$/.exec(functionName);
  return match ? Number(match[1]) : undefined;
}

/** ARNs and ids for running the definition locally: nothing here reaches AWS. */
export function localSubstitutions(region = 'us-east-1', maxStageConcurrency = 2): Substitutions {
  return {
    PlanFunctionArn: localFunction(region, 'plan'),
    ScheduleFunctionArn: localFunction(region, 'schedule'),
    ReportFunctionArn: localFunction(region, 'report'),
    LambdaRunnerFunctionArn: localFunction(region, 'lambda-runner'),
    FargatePrepareFunctionArn: localFunction(region, 'fargate-prepare'),
    ClusterArn: `arn:aws:ecs:${region}:${LOCAL_ACCOUNT}:cluster/buildfarm-local`,
    SubnetIds: 'subnet-local',
    SecurityGroupIds: 'sg-local',
    AssignPublicIp: 'DISABLED',
    MaxStageConcurrency: String(maxStageConcurrency),
  };
}
