/**
 * The local stand-in for ECS's task definition registry: the same "describe first,
 * register only if missing" contract as adapters/aws/ecs-task-definitions.ts, kept in
 * memory, so the real fargate-prepare code runs unchanged in the local farm.
 */
import type { RegisterTaskDefinitionRequest } from '../../domain/fargate/task-definition.js';
import type { EnsuredTaskDefinition } from '../../adapters/aws/ecs-task-definitions.js';

export class LocalTaskDefinitions {
  private readonly byFamily = new Map<string, { arn: string; request: RegisterTaskDefinitionRequest }>();
  private readonly byArn = new Map<string, RegisterTaskDefinitionRequest>();

  constructor(private readonly region: string) {}

  async ensure(request: RegisterTaskDefinitionRequest): Promise<EnsuredTaskDefinition> {
    const existing = this.byFamily.get(request.family);
    if (existing) return { taskDefinitionArn: existing.arn, family: request.family, revision: 1, registered: false };
    const arn = `arn:aws:ecs:${this.region}:000000000000:task-definition/${request.family}:1`;
    this.byFamily.set(request.family, { arn, request });
    this.byArn.set(arn, request);
    return { taskDefinitionArn: arn, family: request.family, revision: 1, registered: true };
  }

  describe(arn: string): RegisterTaskDefinitionRequest | undefined {
    return this.byArn.get(arn);
  }
}
