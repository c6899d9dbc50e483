/**
 * The ECS task metadata endpoint v4, as the task's helper containers call it: the agent sets
 * ECS_CONTAINER_METADATA_URI_V4 in every container.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html
 */

export class HelperMisconfigured extends Error {
  override readonly name = 'HelperMisconfigured';
}

/** GET the task metadata endpoint v4 (set by the ECS agent in every container): `/task`, or `/task/stats`. */
export async function fetchTaskMetadata(env: NodeJS.ProcessEnv = process.env, path: '/task' | '/task/stats' = '/task'): Promise<unknown> {
  const base = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!base) throw new HelperMisconfigured('ECS_CONTAINER_METADATA_URI_V4 is not set (not running on ECS?)');
  const response = await fetch(`${base}${path}`);
  if (!response.ok) throw new HelperMisconfigured(`task metadata: HTTP ${response.status}`);
  return response.json();
}

