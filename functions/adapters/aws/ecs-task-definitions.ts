/**
 * Ensures a build task definition exists, on ECS: describe first, register only
 * when the family has no ACTIVE revision, and converge when builds race.
 *
 * The family name is a hash of the whole registration request (see
 * domain/fargate/family.ts), so any ACTIVE revision of it has the right content.
 * ECS never deduplicates registrations: two builds that both find the family
 * missing each create a revision. Both then list the family's ACTIVE revisions and
 * use the lowest; the racer whose revision is not the lowest deregisters it, so one
 * revision remains. ECS also refuses concurrent registrations in one family with a
 * ClientException ("Too many concurrent attempts ..."); the other build's
 * registration then succeeds, and describing again finds it.
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html
 */
import {
  ClientException,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import type { RegisterTaskDefinitionRequest } from '../../domain/fargate/task-definition.js';

export interface EnsuredTaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  /** True when this call registered the revision it returns. */
  registered: boolean;
}

/** The task definition could not be found nor registered. */
export class TaskDefinitionUnavailable extends Error {
  override readonly name = 'TaskDefinitionUnavailable';
}

export interface EcsTaskDefinitionsOptions {
  /** Waits between describe attempts after a refused registration, ms. */
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class EcsTaskDefinitions {
  private readonly retryDelaysMs: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly ecs: ECSClient,
    options: EcsTaskDefinitionsOptions = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? [200, 500, 1000, 2000];
    this.sleep = options.sleep ?? defaultSleep;
  }

  async ensure(request: RegisterTaskDefinitionRequest): Promise<EnsuredTaskDefinition> {
    const existing = await this.describeActive(request.family);
    if (existing) return { ...existing, registered: false };

    let registered: EnsuredTaskDefinition;
    try {
      const output = await this.ecs.send(new RegisterTaskDefinitionCommand(request));
      const definition = output.taskDefinition;
      if (!definition?.taskDefinitionArn || definition.revision === undefined) {
        throw new TaskDefinitionUnavailable(`RegisterTaskDefinition returned no task definition for ${request.family}`);
      }
      registered = {
        taskDefinitionArn: definition.taskDefinitionArn,
        family: request.family,
        revision: definition.revision,
        registered: true,
      };
    } catch (error) {
      if (!(error instanceof ClientException)) throw error;
      return this.waitForOther(request.family, error);
    }
    return this.converge(registered);
  }

  /** The family's latest ACTIVE revision, or undefined when it has none. */
  private async describeActive(family: string): Promise<Omit<EnsuredTaskDefinition, 'registered'> | undefined> {
    try {
      const output = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
      const definition = output.taskDefinition;
      if (definition?.status !== 'ACTIVE' || !definition.taskDefinitionArn || definition.revision === undefined) {
        return undefined;
      }
      return { taskDefinitionArn: definition.taskDefinitionArn, family, revision: definition.revision };
    } catch (error) {
      // A family with no ACTIVE revision is a ClientException ("Unable to describe task definition.").
      if (error instanceof ClientException) return undefined;
      throw error;
    }
  }

  /** Another build's registration is in flight: describe until it shows up. */
  private async waitForOther(family: string, cause: Error): Promise<EnsuredTaskDefinition> {
    for (const delay of this.retryDelaysMs) {
      await this.sleep(delay);
      const found = await this.describeActive(family);
      if (found) return { ...found, registered: false };
    }
    throw new TaskDefinitionUnavailable(`could not register or find task definition ${family}: ${cause.message}`, {
      cause,
    });
  }

  /** Keeps the lowest ACTIVE revision; deregisters ours when a racer's came first. */
  private async converge(mine: EnsuredTaskDefinition): Promise<EnsuredTaskDefinition> {
    const output = await this.ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: mine.family, status: 'ACTIVE', sort: 'ASC', maxResults: 10 }),
    );
    // familyPrefix matches prefixes: keep exactly this family's ARNs (…:task-definition/{family}:{revision}).
    const lowest = (output.taskDefinitionArns ?? []).find((arn) => familyOf(arn) === mine.family);
    if (!lowest || lowest === mine.taskDefinitionArn) return mine;
    await this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: mine.taskDefinitionArn }));
    return { taskDefinitionArn: lowest, family: mine.family, revision: revisionOf(lowest), registered: false };
  }
}

function familyOf(arn: string): string {
  const name = arn.slice(arn.lastIndexOf('/') + 1);
  return name.slice(0, name.lastIndexOf(':'));
}

function revisionOf(arn: string): number {
  return Number(arn.slice(arn.lastIndexOf(':') + 1));
}
